/* Every unit-test suite, one SUITE(name) line each (defined as suite_name in test/unit/). */
SUITE(reader)
SUITE(text)
SUITE(fonts)
SUITE(images)
SUITE(barcodes)
SUITE(json)
SUITE(bind)
SUITE(template)
