/*
 * afp_jwt.c — JSON Web Tokens (RFC 7519, compact JWS of RFC 7515) signed with OpenSSL.
 *
 *   RS256  RSASSA-PKCS1-v1_5 with SHA-256 (FCM: the service-account assertion of the OAuth2
 *          JWT bearer grant, RFC 7523);
 *   ES256  ECDSA on P-256 with SHA-256 (APNs provider tokens). OpenSSL returns the signature as
 *          a DER ECDSA-Sig-Value (SEQUENCE of two INTEGERs); JWS wants the raw 64 bytes r || s,
 *          each big-endian and left-padded to 32 bytes (RFC 7518, 3.4).
 *
 * No PostgreSQL error is raised for bad input (a key that does not parse, the wrong key type):
 * the caller gets NULL and a reason. OpenSSL objects are freed before returning.
 */
#include "postgres.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "lib/stringinfo.h"

#include "afp_push.h"

/* Base64url without padding (RFC 7515, section 2) of len bytes, palloc'd. */
char *
afp_base64url(const unsigned char *data, size_t len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char       *out = palloc(((len + 2) / 3) * 4 + 1);
    size_t      i, o = 0;

    for (i = 0; i + 2 < len; i += 3)
    {
        uint32      v = ((uint32) data[i] << 16) | ((uint32) data[i + 1] << 8) | data[i + 2];

        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = alphabet[(v >> 6) & 63];
        out[o++] = alphabet[v & 63];
    }
    if (len - i == 1)
    {
        uint32      v = (uint32) data[i] << 16;

        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
    }
    else if (len - i == 2)
    {
        uint32      v = ((uint32) data[i] << 16) | ((uint32) data[i + 1] << 8);

        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = alphabet[(v >> 6) & 63];
    }
    out[o] = '\0';
    return out;
}

/* Parses a PEM private key (PKCS#8 or traditional); NULL when it does not parse. */
static EVP_PKEY *
jwt_read_key(const char *pem)
{
    BIO        *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY   *key = NULL;

    if (bio != NULL)
    {
        key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
        BIO_free(bio);
    }
    ERR_clear_error();
    return key;
}

/* True for an EC key on P-256 (prime256v1 / secp256r1), the only curve of ES256. */
static bool
jwt_is_p256(EVP_PKEY *key)
{
    char        group[64];
    size_t      len = 0;

    if (EVP_PKEY_base_id(key) != EVP_PKEY_EC ||
        EVP_PKEY_get_group_name(key, group, sizeof(group), &len) != 1)
        return false;
    return strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0 ||
        strcmp(group, "secp256r1") == 0;
}

/*
 * Converts a DER ECDSA-Sig-Value into the 64-byte JOSE form r || s. False when the DER does not
 * parse or a component is longer than 32 bytes.
 */
static bool
jwt_der_to_raw(const unsigned char *der, size_t der_len, unsigned char raw[64])
{
    const unsigned char *p = der;
    ECDSA_SIG  *sig = d2i_ECDSA_SIG(NULL, &p, (long) der_len);
    const BIGNUM *r, *s;
    bool        ok;

    if (sig == NULL)
        return false;
    ECDSA_SIG_get0(sig, &r, &s);
    ok = BN_bn2binpad(r, raw, 32) == 32 && BN_bn2binpad(s, raw + 32, 32) == 32;
    ECDSA_SIG_free(sig);
    return ok;
}

/* Signs header.claims; see afp_push.h. */
char *
afp_jwt_sign(AfpJwtAlg alg, const char *header_json, const char *claims_json,
             const char *key_pem, const char **error)
{
    EVP_PKEY   *key;
    EVP_MD_CTX *ctx = NULL;
    StringInfoData input;
    unsigned char *sig = NULL;
    unsigned char raw[64];
    size_t      sig_len = 0;
    char       *h64, *c64, *s64, *result = NULL;

    *error = NULL;
    if (key_pem == NULL || key_pem[0] == '\0')
    {
        *error = "no private key";
        return NULL;
    }
    key = jwt_read_key(key_pem);
    if (key == NULL)
    {
        *error = "the private key is not a PEM private key";
        return NULL;
    }
    if (alg == AFP_JWT_RS256 && EVP_PKEY_base_id(key) != EVP_PKEY_RSA)
        *error = "RS256 needs an RSA private key";
    else if (alg == AFP_JWT_ES256 && !jwt_is_p256(key))
        *error = "ES256 needs an EC P-256 private key";
    if (*error)
    {
        EVP_PKEY_free(key);
        return NULL;
    }

    h64 = afp_base64url((const unsigned char *) header_json, strlen(header_json));
    c64 = afp_base64url((const unsigned char *) claims_json, strlen(claims_json));
    initStringInfo(&input);
    appendStringInfo(&input, "%s.%s", h64, c64);

    ctx = EVP_MD_CTX_new();
    if (ctx == NULL ||
        EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
        EVP_DigestSign(ctx, NULL, &sig_len, (const unsigned char *) input.data, input.len) != 1 ||
        (sig = OPENSSL_malloc(sig_len)) == NULL ||
        EVP_DigestSign(ctx, sig, &sig_len, (const unsigned char *) input.data, input.len) != 1)
        *error = "signing failed";
    else if (alg == AFP_JWT_ES256 && !jwt_der_to_raw(sig, sig_len, raw))
        *error = "unexpected ECDSA signature encoding";
    ERR_clear_error();

    if (*error == NULL)
    {
        s64 = alg == AFP_JWT_ES256 ? afp_base64url(raw, sizeof(raw)) : afp_base64url(sig, sig_len);
        appendStringInfo(&input, ".%s", s64);
        result = input.data;
        pfree(s64);
    }
    else
        pfree(input.data);
    OPENSSL_free(sig);
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    pfree(h64);
    pfree(c64);
    return result;
}
