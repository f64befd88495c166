-- afp.quiet_hours: no SMS or push at night in the customer's time zone.
CREATE TABLE afp.quiet_hours (
    channel    text NOT NULL PRIMARY KEY CHECK (channel IN ('email', 'sms', 'push')),
    starts_at  time NOT NULL,
    ends_at    time NOT NULL CHECK (ends_at <> starts_at),
    action     text NOT NULL DEFAULT 'defer' CHECK (action IN ('defer', 'fallback'))
);

INSERT INTO afp.quiet_hours (channel, starts_at, ends_at, action) VALUES
    ('sms',  '21:00', '08:00', 'defer'),
    ('push', '21:00', '08:00', 'defer');

COMMENT ON TABLE afp.quiet_hours IS
'Quiet hours per channel, in each customer''s local time (afp.customers.time_zone). A channel '
'without a row (email by default) has none. Seeded: sms and push 21:00-08:00, defer.';
COMMENT ON COLUMN afp.quiet_hours.channel IS 'email, sms or push.';
COMMENT ON COLUMN afp.quiet_hours.starts_at IS 'Local time the quiet period starts (inclusive).';
COMMENT ON COLUMN afp.quiet_hours.ends_at IS 'Local time it ends (exclusive); earlier than starts_at means it spans midnight.';
COMMENT ON COLUMN afp.quiet_hours.action IS
'defer: keep the channel and set next_attempt_at to the end of the quiet period; '
'fallback: treat the channel as unusable now and take the next one in the customer''s order.';
