/*
 * afp_push_fcm.c — Firebase Cloud Messaging HTTP v1: OAuth2 access tokens and error codes.
 *
 * Authentication (OAuth2 JWT bearer grant, RFC 7523, as Google documents it for service
 * accounts): the worker signs a JWT with the service account's RSA key (RS256; claims iss =
 * client_email, scope = https://www.googleapis.com/auth/firebase.messaging, aud = token_uri,
 * iat = now, exp = now + 1 h), POSTs it to token_uri as
 * grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<jwt>, and gets
 * {"access_token": ..., "expires_in": 3599, "token_type": "Bearer"}. The token is cached per
 * provider (and service account) in process memory and reused until shortly before it expires
 * (refresh_at = expiry - min(5 min, a quarter of its lifetime)); a 401 reply forces one refresh.
 *
 * Error replies look like {"error": {"code": 404, "status": "NOT_FOUND", "details": [{"@type":
 * "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"}]}}: the
 * outcome code is "<HTTP status> <errorCode>" (else "<status> <error.status>", else the status),
 * classified by afp.outcome_rules.
 */
#include "postgres.h"

#include <time.h>

#include "common/hashfn.h"
#include "lib/stringinfo.h"
#include "utils/memutils.h"

#include "afp_push.h"

#define FCM_SCOPE        "https://www.googleapis.com/auth/firebase.messaging"
#define FCM_CACHE_SIZE   8

/* A cached access token. Strings live in TopMemoryContext. */
typedef struct FcmToken
{
    char       *provider;
    char       *client_email;
    char       *token_uri;
    uint32      key_hash;           /* hash of the private key PEM: a new key means a new token */
    char       *access_token;
    time_t      refresh_at;         /* fetch a new one from this time on */
} FcmToken;

static FcmToken fcm_cache[FCM_CACHE_SIZE];
uint64      afp_fcm_token_fetches = 0;

/* Frees one cache entry. */
static void
fcm_cache_free(FcmToken *t)
{
    if (t->provider)
        pfree(t->provider);
    if (t->client_email)
        pfree(t->client_email);
    if (t->token_uri)
        pfree(t->token_uri);
    if (t->access_token)
        pfree(t->access_token);
    memset(t, 0, sizeof(*t));
}

/* The cache entry of provider p (its current credentials), or NULL. */
static FcmToken *
fcm_cache_find(const AfpPushProvider *p, uint32 key_hash)
{
    int         i;

    for (i = 0; i < FCM_CACHE_SIZE; i++)
    {
        FcmToken   *t = &fcm_cache[i];

        if (t->provider && strcmp(t->provider, p->name) == 0 &&
            strcmp(t->client_email, p->client_email) == 0 &&
            strcmp(t->token_uri, p->token_uri) == 0 && t->key_hash == key_hash)
            return t;
    }
    return NULL;
}

/* Stores a new token for p, replacing its old entry or the one due soonest. */
static FcmToken *
fcm_cache_store(const AfpPushProvider *p, uint32 key_hash, const char *token, time_t refresh_at)
{
    MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
    FcmToken   *slot = NULL;
    int         i;

    for (i = 0; i < FCM_CACHE_SIZE && slot == NULL; i++)
        if (fcm_cache[i].provider && strcmp(fcm_cache[i].provider, p->name) == 0)
            slot = &fcm_cache[i];
    for (i = 0; i < FCM_CACHE_SIZE && slot == NULL; i++)
        if (fcm_cache[i].provider == NULL)
            slot = &fcm_cache[i];
    if (slot == NULL)
    {
        slot = &fcm_cache[0];
        for (i = 1; i < FCM_CACHE_SIZE; i++)
            if (fcm_cache[i].refresh_at < slot->refresh_at)
                slot = &fcm_cache[i];
    }
    fcm_cache_free(slot);
    slot->provider = pstrdup(p->name);
    slot->client_email = pstrdup(p->client_email);
    slot->token_uri = pstrdup(p->token_uri);
    slot->key_hash = key_hash;
    slot->access_token = pstrdup(token);
    slot->refresh_at = refresh_at;
    MemoryContextSwitchTo(old);
    return slot;
}

/* Sets p's authentication failure. */
static void
fcm_auth_fail(AfpPushProvider *p, const char *code, const char *message)
{
    p->bearer = NULL;
    strlcpy(p->auth_code, code, sizeof(p->auth_code));
    strlcpy(p->auth_message, message, sizeof(p->auth_message));
}

/* Replaces control and non-ASCII bytes so that a reply excerpt is valid text anywhere. */
static void
fcm_clean(char *s)
{
    for (; *s; s++)
        if ((unsigned char) *s < 0x20 || (unsigned char) *s > 0x7e)
            *s = ' ';
}

/* True for a usable access token: non-empty, not truncated, visible ASCII only (it goes into a
 * header). */
static bool
fcm_token_ok(const char *token)
{
    size_t      len = strlen(token);
    const char *c;

    if (len == 0 || len >= 4095)
        return false;
    for (c = token; *c; c++)
        if ((unsigned char) *c <= 0x20 || (unsigned char) *c > 0x7e)
            return false;
    return true;
}

/* The signed service-account assertion for p, or NULL with *error set. */
static char *
fcm_assertion(const AfpPushProvider *p, time_t now, const char **error)
{
    StringInfoData claims;
    char       *jwt;

    initStringInfo(&claims);
    appendStringInfoString(&claims, "{\"iss\":");
    afp_push_json_string(&claims, p->client_email);
    appendStringInfoString(&claims, ",\"scope\":");
    afp_push_json_string(&claims, FCM_SCOPE);
    appendStringInfoString(&claims, ",\"aud\":");
    afp_push_json_string(&claims, p->token_uri);
    appendStringInfo(&claims, ",\"iat\":%ld,\"exp\":%ld}", (long) now, (long) now + 3600);
    jwt = afp_jwt_sign(AFP_JWT_RS256, "{\"alg\":\"RS256\",\"typ\":\"JWT\"}", claims.data,
                       p->private_key, error);
    pfree(claims.data);
    return jwt;
}

/* Makes sure p->bearer is a valid access token; see afp_push.h. */
void
afp_fcm_authenticate(AfpPushProvider *p, bool force, long timeout_ms)
{
    time_t      now = time(NULL);
    uint32      key_hash;
    FcmToken   *t;
    AfpHttpReq *req;
    AfpHttpReq *reqs[1];
    const char *error;
    char       *jwt;
    char        token[4096];
    char        expires[32];
    char        detail[200];
    long        lifetime;

    p->bearer = NULL;
    p->auth_code[0] = '\0';
    p->auth_message[0] = '\0';
    p->auth_retry_after = -1;
    p->auth_aborted = false;
    if (p->client_email == NULL || p->private_key == NULL || p->token_uri == NULL)
    {
        fcm_auth_fail(p, "config:service_account",
                      "the FCM provider needs secret client_email, private_key and token_uri");
        return;
    }
    key_hash = hash_bytes((const unsigned char *) p->private_key, (int) strlen(p->private_key));
    t = fcm_cache_find(p, key_hash);
    if (t != NULL && !force && now < t->refresh_at)
    {
        p->bearer = t->access_token;
        return;
    }

    jwt = fcm_assertion(p, now, &error);
    if (jwt == NULL)
    {
        snprintf(detail, sizeof(detail), "service account key: %s", error);
        fcm_auth_fail(p, "config:service_account", detail);
        return;
    }
    req = palloc0(sizeof(AfpHttpReq));
    afp_http_req_reset(req);
    req->url = p->token_uri;
    req->body = psprintf("grant_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Agrant-type%%3Ajwt-bearer&assertion=%s", jwt);
    req->headers[0] = "Content-Type: application/x-www-form-urlencoded";
    req->headers[1] = "Accept: application/json";
    req->tls_verify = p->tls_verify;
    req->ca_file = p->ca_file;
    reqs[0] = req;
    afp_http_run(reqs, 1, 1, timeout_ms, "afp push worker");

    if (req->outcome == AFP_SEND_ABORTED)
        p->auth_aborted = true;
    else if (req->outcome == AFP_SEND_ERROR)
    {
        snprintf(detail, sizeof(detail), "token exchange at %s: %s", p->token_uri, req->message);
        fcm_auth_fail(p, req->code, detail);
    }
    else if (req->status == 200 && afp_push_json_get(req->resp, req->resp_len, "access_token", token, sizeof(token)) &&
             fcm_token_ok(token))
    {
        afp_fcm_token_fetches++;
        lifetime = afp_push_json_get(req->resp, req->resp_len, "expires_in", expires, sizeof(expires))
            ? strtol(expires, NULL, 10) : 3600;
        lifetime = Max(lifetime, 1);
        t = fcm_cache_store(p, key_hash, token, now + lifetime - Min(300L, lifetime / 4));
        p->bearer = t->access_token;
        ereport(DEBUG1, (errmsg("afp push worker: new FCM access token for provider \"%s\" (%ld s)",
                                p->name, lifetime)));
    }
    else
    {
        strlcpy(detail, req->resp, sizeof(detail));
        fcm_clean(detail);
        /* 429 and 5xx keep their status (transient, Retry-After); anything else is our problem */
        if (req->status == 429 || req->status >= 500)
            snprintf(token, 32, "%ld", req->status);
        else
            strlcpy(token, "config:oauth", 32);
        fcm_auth_fail(p, token, psprintf("token exchange at %s: HTTP %ld: %s", p->token_uri, req->status, detail));
        p->auth_retry_after = req->retry_after;
    }
    pfree(jwt);
    pfree((char *) req->body);
    pfree(req);
}

/* Outcome code of an FCM error reply; see afp_push.h. */
void
afp_fcm_reply_code(const AfpHttpReq *r, char *code, size_t size)
{
    char        err[64];

    if (afp_push_json_get(r->resp, r->resp_len, "error.details[].errorCode", err, sizeof(err)) ||
        afp_push_json_get(r->resp, r->resp_len, "error.status", err, sizeof(err)))
    {
        fcm_clean(err);
        snprintf(code, size, "%ld %s", r->status, err);
    }
    else
        snprintf(code, size, "%ld", r->status);
}

/* Frees the cached FCM access tokens. */
void
afp_fcm_reset_cache(void)
{
    int         i;

    for (i = 0; i < FCM_CACHE_SIZE; i++)
        fcm_cache_free(&fcm_cache[i]);
}
