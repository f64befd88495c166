/*
 * afp_push_apns.c — Apple Push Notification service: provider tokens, apns-id and error codes.
 *
 * Token-based authentication: a JWT with header {"alg":"ES256","kid":<key id>} and claims
 * {"iss":<team id>,"iat":<now>}, signed with the .p8 key (EC P-256), sent as
 * "authorization: bearer <jwt>". Apple rejects tokens older than one hour and refreshing more
 * than once per 20 minutes (TooManyProviderTokenUpdates), so one token per provider is reused
 * for AFP_APNS_TOKEN_REUSE_S (40 minutes) and then signed anew; a 403
 * ExpiredProviderToken / InvalidProviderToken reply forces one new token.
 *
 * apns-id: APNs echoes the request's apns-id (a UUID) and identifies the notification by it.
 * The worker derives it from the outbox idempotency key as a name-based UUID (RFC 4122 version 5,
 * SHA-1) in the namespace AFP_APNS_NAMESPACE, so every retry of a message carries the same id.
 *
 * Error replies are {"reason": "BadDeviceToken"}; the outcome code is "<status> <reason>"
 * ("410 Unregistered", "400 BadDeviceToken", "429 TooManyRequests"), classified by
 * afp.outcome_rules.
 */
#include "postgres.h"

#include <time.h>

#include <openssl/evp.h>

#include "common/hashfn.h"
#include "lib/stringinfo.h"
#include "utils/memutils.h"

#include "afp_push.h"

/* Namespace UUID of afp's apns-ids: 5b3e3f0c-8d3a-4c52-9a1e-6a0f4d7c2b91. */
static const unsigned char AFP_APNS_NAMESPACE[16] = {
    0x5b, 0x3e, 0x3f, 0x0c, 0x8d, 0x3a, 0x4c, 0x52,
    0x9a, 0x1e, 0x6a, 0x0f, 0x4d, 0x7c, 0x2b, 0x91
};

#define APNS_CACHE_SIZE 8

/* A cached provider token. Strings live in TopMemoryContext. */
typedef struct ApnsToken
{
    char       *provider;
    char       *key_id;
    char       *team_id;
    uint32      key_hash;
    char       *jwt;
    time_t      issued_at;
} ApnsToken;

static ApnsToken apns_cache[APNS_CACHE_SIZE];

/* Frees one cache entry. */
static void
apns_cache_free(ApnsToken *t)
{
    if (t->provider)
        pfree(t->provider);
    if (t->key_id)
        pfree(t->key_id);
    if (t->team_id)
        pfree(t->team_id);
    if (t->jwt)
        pfree(t->jwt);
    memset(t, 0, sizeof(*t));
}

/* Frees the cached provider tokens. */
void
afp_apns_reset_cache(void)
{
    int         i;

    for (i = 0; i < APNS_CACHE_SIZE; i++)
        apns_cache_free(&apns_cache[i]);
}

/* Sets p's authentication failure. */
static void
apns_auth_fail(AfpPushProvider *p, const char *code, const char *message)
{
    p->bearer = NULL;
    strlcpy(p->auth_code, code, sizeof(p->auth_code));
    strlcpy(p->auth_message, message, sizeof(p->auth_message));
}

/* Makes sure p->bearer is a provider token young enough; see afp_push.h. */
void
afp_apns_authenticate(AfpPushProvider *p, bool force)
{
    time_t      now = time(NULL);
    uint32      key_hash;
    ApnsToken  *slot = NULL;
    StringInfoData header, claims;
    const char *error;
    char       *jwt;
    int         i;
    MemoryContext old;

    p->bearer = NULL;
    p->auth_code[0] = '\0';
    p->auth_message[0] = '\0';
    p->auth_retry_after = -1;
    p->auth_aborted = false;
    if (p->key_id == NULL || p->team_id == NULL || p->private_key == NULL)
    {
        apns_auth_fail(p, "config:apns_key", "the APNs provider needs secret key_id, team_id and private_key");
        return;
    }
    key_hash = hash_bytes((const unsigned char *) p->private_key, (int) strlen(p->private_key));
    for (i = 0; i < APNS_CACHE_SIZE && slot == NULL; i++)
        if (apns_cache[i].provider && strcmp(apns_cache[i].provider, p->name) == 0)
            slot = &apns_cache[i];
    if (slot && !force && strcmp(slot->key_id, p->key_id) == 0 &&
        strcmp(slot->team_id, p->team_id) == 0 && slot->key_hash == key_hash &&
        now >= slot->issued_at && now - slot->issued_at < AFP_APNS_TOKEN_REUSE_S)
    {
        p->bearer = slot->jwt;
        return;
    }

    initStringInfo(&header);
    appendStringInfoString(&header, "{\"alg\":\"ES256\",\"kid\":");
    afp_push_json_string(&header, p->key_id);
    appendStringInfoChar(&header, '}');
    initStringInfo(&claims);
    appendStringInfoString(&claims, "{\"iss\":");
    afp_push_json_string(&claims, p->team_id);
    appendStringInfo(&claims, ",\"iat\":%ld}", (long) now);
    jwt = afp_jwt_sign(AFP_JWT_ES256, header.data, claims.data, p->private_key, &error);
    pfree(header.data);
    pfree(claims.data);
    if (jwt == NULL)
    {
        apns_auth_fail(p, "config:apns_key", psprintf("APNs signing key: %s", error));
        return;
    }

    for (i = 0; i < APNS_CACHE_SIZE && slot == NULL; i++)
        if (apns_cache[i].provider == NULL)
            slot = &apns_cache[i];
    if (slot == NULL)
        slot = &apns_cache[(int) (key_hash % APNS_CACHE_SIZE)];
    apns_cache_free(slot);
    old = MemoryContextSwitchTo(TopMemoryContext);
    slot->provider = pstrdup(p->name);
    slot->key_id = pstrdup(p->key_id);
    slot->team_id = pstrdup(p->team_id);
    slot->key_hash = key_hash;
    slot->jwt = pstrdup(jwt);
    slot->issued_at = now;
    MemoryContextSwitchTo(old);
    pfree(jwt);
    p->bearer = slot->jwt;
}

/* The apns-id of an idempotency key (UUID version 5); see afp_push.h. */
void
afp_apns_id_for_key(const char *key, char out[37])
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool        ok;
    int         i, o = 0;

    ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1 &&
        EVP_DigestUpdate(ctx, AFP_APNS_NAMESPACE, sizeof(AFP_APNS_NAMESPACE)) == 1 &&
        EVP_DigestUpdate(ctx, key, strlen(key)) == 1 &&
        EVP_DigestFinal_ex(ctx, digest, &dlen) == 1 && dlen >= 16;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        ereport(ERROR, (errmsg("afp push worker: SHA-1 failed")));
    digest[6] = (digest[6] & 0x0f) | 0x50;     /* version 5 */
    digest[8] = (digest[8] & 0x3f) | 0x80;     /* RFC 4122 variant */
    for (i = 0; i < 16; i++)
    {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        snprintf(out + o, 3, "%02x", digest[i]);
        o += 2;
    }
    out[o] = '\0';
}

/* Outcome code of an APNs error reply; see afp_push.h. */
void
afp_apns_reply_code(const AfpHttpReq *r, char *code, size_t size)
{
    char        reason[64];
    char       *c;

    if (afp_push_json_get(r->resp, r->resp_len, "reason", reason, sizeof(reason)) && reason[0])
    {
        for (c = reason; *c; c++)
            if ((unsigned char) *c <= 0x20 || (unsigned char) *c > 0x7e)
                *c = '_';
        snprintf(code, size, "%ld %s", r->status, reason);
    }
    else
        snprintf(code, size, "%ld", r->status);
}
