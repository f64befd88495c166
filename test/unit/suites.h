/* Every unit-test suite, one SUITE(name) line each (defined as suite_name in test/unit/). */
SUITE(reader)
SUITE(text)
