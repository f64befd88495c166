/*
 * afp_push.h — declarations shared by the push worker's files (docs/delivery.md, "Push");
 * its requests go through afp_http.c (afp_http.h), shared with the SMS worker.
 *
 *   afp_push_worker.c  the push worker: claim, authenticate, send, retry once on 401, record
 *   afp_push_fcm.c     FCM HTTP v1: OAuth2 access token (service-account JWT) cache, replies
 *   afp_push_apns.c    APNs: provider token (ES256 JWT) cache, apns-id, headers, replies
 *   afp_push_json.c    reading one value out of a JSON reply (PostgreSQL's JSON parser)
 *   afp_jwt.c          JSON Web Tokens signed RS256 / ES256 with OpenSSL
 */
#ifndef AFP_PUSH_H
#define AFP_PUSH_H

#include "postgres.h"

#include "afp_delivery.h"
#include "afp_http.h"           /* AfpHttpReq: requests go through afp_http.c */


/* ------------------------------------------------------------------ JSON (afp_push_json.c) */
/*
 * Copies the first string or number at path ("name", "error.details[].errorCode": field names
 * separated by '.', "[]" = any array element) of the JSON text into out. False when the text is
 * not JSON or has no such value. Never raises an ERROR for bad input.
 */
extern bool afp_push_json_get(const char *json, size_t len, const char *path, char *out, size_t outsz);

/* Appends s as a JSON string literal (quotes included) to buf. */
extern void afp_push_json_string(StringInfo buf, const char *s);

/* ------------------------------------------------------------------ JWT (afp_jwt.c) */
typedef enum AfpJwtAlg
{
    AFP_JWT_RS256,                  /* RSASSA-PKCS1-v1_5 with SHA-256, RSA key */
    AFP_JWT_ES256                   /* ECDSA P-256 with SHA-256, signature r||s (64 bytes) */
} AfpJwtAlg;

/*
 * Signs header.claims (both JSON texts) with the PEM private key: returns the palloc'd compact
 * JWT "b64url(header).b64url(claims).b64url(signature)", or NULL with *error set (bad key, wrong
 * key type). Never raises an ERROR for bad input.
 */
extern char *afp_jwt_sign(AfpJwtAlg alg, const char *header_json, const char *claims_json,
                          const char *key_pem, const char **error);

/* Base64url without padding (RFC 7515) of len bytes, palloc'd. */
extern char *afp_base64url(const unsigned char *data, size_t len);

/* ------------------------------------------------------------------ providers */
/* Credentials and settings of one push provider, as claimed (afp.push_message columns). */
typedef struct AfpPushProvider
{
    char       *name;
    char       *service;            /* "fcm" or "apns" */
    char       *client_email;       /* FCM service account */
    char       *private_key;        /* FCM: RSA PEM; APNs: the .p8 EC P-256 PEM */
    char       *token_uri;          /* FCM OAuth2 token endpoint */
    char       *key_id;             /* APNs */
    char       *team_id;            /* APNs */
    bool        tls_verify;
    char       *ca_file;
    /* per batch */
    const char *bearer;             /* current access / provider token (cache-owned) */
    char        auth_code[32];      /* when authentication failed: the outcome code */
    char        auth_message[256];
    int         auth_retry_after;
    bool        auth_aborted;
} AfpPushProvider;

/*
 * FCM: makes sure p->bearer holds an access token valid for at least another minute: from the
 * cache, else by a token exchange at token_uri (one HTTP request; force = ignore the cache, used
 * after a 401). On failure sets p->auth_code / auth_message (or auth_aborted) and p->bearer NULL.
 */
extern void afp_fcm_authenticate(AfpPushProvider *p, bool force, long timeout_ms);

/* Number of token exchanges this process has performed (for the log). */
extern uint64 afp_fcm_token_fetches;

/*
 * APNs: makes sure p->bearer holds a provider token (ES256 JWT) younger than
 * AFP_APNS_TOKEN_REUSE_S: from the cache, else newly signed (force = sign anew). On failure sets
 * p->auth_code / auth_message and p->bearer NULL.
 */
extern void afp_apns_authenticate(AfpPushProvider *p, bool force);

/* How long an APNs provider token is reused (Apple accepts 20 to 60 minutes). */
#define AFP_APNS_TOKEN_REUSE_S  (40 * 60)

/* The apns-id for an idempotency key: a name-based UUID (version 5, SHA-1) in a fixed namespace. */
extern void afp_apns_id_for_key(const char *key, char out[37]);

/*
 * Outcome code of a provider reply that is not a success: "<status>" or "<status> <error>"
 * (FCM: error.details[].errorCode, else error.status; APNs: reason). palloc-free.
 */
extern void afp_fcm_reply_code(const AfpHttpReq *r, char *code, size_t size);
extern void afp_apns_reply_code(const AfpHttpReq *r, char *code, size_t size);

/* Free the FCM access-token and the APNs provider-token caches (worker exit). */
extern void afp_fcm_reset_cache(void);
extern void afp_apns_reset_cache(void);

#endif
