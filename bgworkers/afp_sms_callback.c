/*
 * afp_sms_callback.c — signature check of SMS provider status callbacks (docs/delivery.md).
 *
 * afp_ingest_callback() (sql/087_sms_callback.sql) builds the string a Twilio-shaped provider
 * signs — the callback URL followed by every POST parameter name and value, sorted by name —
 * and asks afp.twilio_signature_matches() whether the X-Twilio-Signature header is
 * base64(HMAC-SHA1(auth token, that string)). The comparison runs in constant time.
 */
#include "postgres.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "fmgr.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(afp_twilio_signature_matches);

/*
 * afp.twilio_signature_matches(auth_token text, data text, signature text) returns boolean:
 * true when signature is the base64 HMAC-SHA1 of data under auth_token. Surrounding white space
 * of the signature is ignored; anything else that differs gives false.
 */
Datum
afp_twilio_signature_matches(PG_FUNCTION_ARGS)
{
    text       *token = PG_GETARG_TEXT_PP(0);
    text       *data = PG_GETARG_TEXT_PP(1);
    text       *sig = PG_GETARG_TEXT_PP(2);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    char        expected[64];
    const char *given = VARDATA_ANY(sig);
    int         given_len = VARSIZE_ANY_EXHDR(sig);
    int         explen;

    if (VARSIZE_ANY_EXHDR(token) == 0)
        PG_RETURN_BOOL(false);
    if (HMAC(EVP_sha1(), VARDATA_ANY(token), (int) VARSIZE_ANY_EXHDR(token),
             (const unsigned char *) VARDATA_ANY(data), VARSIZE_ANY_EXHDR(data),
             mac, &maclen) == NULL || maclen != 20)
        ereport(ERROR, (errmsg("afp: HMAC-SHA1 failed")));
    explen = EVP_EncodeBlock((unsigned char *) expected, mac, (int) maclen);   /* 28 chars */

    while (given_len > 0 && (*given == ' ' || *given == '\t'))
        given++, given_len--;
    while (given_len > 0 && (given[given_len - 1] == ' ' || given[given_len - 1] == '\t' ||
                             given[given_len - 1] == '\r' || given[given_len - 1] == '\n'))
        given_len--;
    if (given_len != explen)
        PG_RETURN_BOOL(false);
    PG_RETURN_BOOL(CRYPTO_memcmp(expected, given, explen) == 0);
}
