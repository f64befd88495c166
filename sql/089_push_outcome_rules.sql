-- Outcome rules of the push providers (FCM HTTP v1, APNs), next to the generic http rules of
-- sql/077_outcome_rules.sql. The push worker's outcome code is "<HTTP status> <provider error>":
-- FCM error.details[].errorCode (else error.status), APNs reason. Rules with suppress = true end
-- the message dead, suppress the token and make the push worker delete the contact point.
INSERT INTO afp.outcome_rules (kind, priority, pattern, class, suppress, description, builtin) VALUES
    ('http', 1031, '^400 UNREGISTERED$',       'permanent', true,  'FCM: token no longer registered (400 variant of 404 UNREGISTERED)', true),
    ('http', 1032, '^400 BadDeviceToken$',     'permanent', true,  'APNs: bad device token', true),
    ('http', 1033, '^401 (UNAUTHENTICATED|THIRD_PARTY_AUTH_ERROR)$', 'transient', false,
     'FCM: credentials rejected even after a token refresh (configuration; retried until max attempts)', true),
    ('http', 1034, '^403 (InvalidProviderToken|ExpiredProviderToken|MissingProviderToken)$', 'transient', false,
     'APNs: provider token rejected even after signing a new one (configuration; retried until max attempts)', true);
