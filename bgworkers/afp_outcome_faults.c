/*
 * afp_outcome_faults.c — which outcome codes are provider faults, from afp.outcome_rules
 * (column provider_fault; docs/delivery.md "Rate limits, failover and channel fallback").
 *
 * The circuit breaker (afp_ratelimit.c) must decide right after each transfer, inside the send
 * loop, whether a failure counts against the provider. That decision comes from the same table
 * that classifies the message in the record step: the rule of the provider's kind with the
 * lowest (priority, id) whose pattern matches the code decides, and its provider_fault says
 * whether the provider failed; no matching rule = not a fault.
 *
 * Each process keeps the rules compiled (PostgreSQL's regex engine, the flavour of the SQL `~`
 * operator) in process memory. afp_fault_rules_sync(), called by every channel worker in its
 * claim transaction (through afp_rate_sync), runs one small query for a fingerprint of the rules
 * and reloads them only when it changed: no SQL per message, changes take effect with the next
 * batch. Matching (afp_fault_rules_match) uses no palloc and cannot raise an ERROR: the regex
 * engine allocates with malloc and reports a cancel request as a result code, so it is safe
 * while libcurl handles are attached.
 */
#include "postgres.h"

#include "catalog/pg_collation.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "regex/regex.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "afp_ratelimit.h"

/* Longest outcome code matched (longer codes are matched on their first bytes). */
#define FAULT_CODE_MAX  256

/* One compiled rule. */
typedef struct FaultRule
{
    char        kind[8];        /* "smtp" or "http" */
    bool        fault;          /* provider_fault */
    regex_t     re;
} FaultRule;

static FaultRule *fault_rules = NULL;  /* in fault_context, ordered by priority, id */
static int  fault_nrules = 0;
static bool fault_loaded = false;
static char fault_fingerprint[33];
static MemoryContext fault_context = NULL;
static SPIPlanPtr fingerprint_plan = NULL;

/* Frees the compiled rules. */
static void
fault_rules_free(void)
{
    int         i;

    for (i = 0; i < fault_nrules; i++)
        pg_regfree(&fault_rules[i].re);
    fault_nrules = 0;
    fault_rules = NULL;
    fault_loaded = false;
    fault_fingerprint[0] = '\0';
    if (fault_context != NULL)
        MemoryContextReset(fault_context);
}

/* Compiles pattern into re (REG_ADVANCED like `~`, default collation); ERROR when it is invalid. */
static void
fault_compile(regex_t *re, const char *pattern)
{
    int         len = (int) strlen(pattern);
    pg_wchar   *wide = palloc((len + 1) * sizeof(pg_wchar));
    int         wlen = pg_mb2wchar_with_len(pattern, wide, len);
    int         rc = pg_regcomp(re, wide, wlen, REG_ADVANCED | REG_NOSUB, DEFAULT_COLLATION_OID);

    pfree(wide);
    if (rc != REG_OKAY)
    {
        char        msg[128];

        pg_regerror(rc, re, msg, sizeof(msg));
        ereport(ERROR,
                (errcode(ERRCODE_INVALID_REGULAR_EXPRESSION),
                 errmsg("afp: outcome rule pattern \"%s\" is invalid: %s", pattern, msg)));
    }
}

/* Loads and compiles every rule (SPI connected); on an ERROR nothing stays loaded. */
static void
fault_rules_load(const char *fingerprint)
{
    uint64      i, n;
    FaultRule  *rules;

    if (SPI_execute("SELECT kind, pattern, provider_fault FROM afp.outcome_rules ORDER BY priority, id",
                    true, 0) != SPI_OK_SELECT)
        ereport(ERROR, (errmsg("afp: could not read afp.outcome_rules")));
    n = SPI_processed;
    if (fault_context == NULL)
        fault_context = AllocSetContextCreate(TopMemoryContext, "afp outcome fault rules",
                                              ALLOCSET_SMALL_SIZES);
    rules = MemoryContextAllocZero(fault_context, sizeof(FaultRule) * Max(n, 1));
    fault_rules = rules;
    for (i = 0; i < n; i++)
    {
        HeapTuple   tup = SPI_tuptable->vals[i];
        TupleDesc   desc = SPI_tuptable->tupdesc;
        char       *kind = SPI_getvalue(tup, desc, 1);
        char       *pattern = SPI_getvalue(tup, desc, 2);
        bool        isnull;
        Datum       fault = SPI_getbinval(tup, desc, 3, &isnull);

        strlcpy(rules[i].kind, kind ? kind : "", sizeof(rules[i].kind));
        rules[i].fault = !isnull && DatumGetBool(fault);
        fault_compile(&rules[i].re, pattern ? pattern : "");
        fault_nrules = (int) i + 1;     /* compiled so far: freed by fault_rules_free */
    }
    strlcpy(fault_fingerprint, fingerprint, sizeof(fault_fingerprint));
    fault_loaded = true;
}

/* See afp_ratelimit.h. */
void
afp_fault_rules_sync(void)
{
    char       *fingerprint;

    if (fingerprint_plan == NULL)
    {
        SPIPlanPtr  plan = SPI_prepare("SELECT md5(coalesce(string_agg(concat_ws(chr(31), kind, pattern, provider_fault), "
                                       "chr(30) ORDER BY priority, id), '')) FROM afp.outcome_rules", 0, NULL);

        if (plan == NULL || SPI_keepplan(plan) != 0)
            ereport(ERROR, (errmsg("afp: could not prepare the outcome rules fingerprint: %s",
                                   SPI_result_code_string(SPI_result))));
        fingerprint_plan = plan;
    }
    if (SPI_execute_plan(fingerprint_plan, NULL, NULL, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
        ereport(ERROR, (errmsg("afp: could not read afp.outcome_rules")));
    fingerprint = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
    if (fault_loaded && fingerprint != NULL && strcmp(fingerprint, fault_fingerprint) == 0)
        return;
    fault_rules_free();
    PG_TRY();
    {
        fault_rules_load(fingerprint ? fingerprint : "");
    }
    PG_CATCH();
    {
        fault_rules_free();
        PG_RE_THROW();
    }
    PG_END_TRY();
}

/* See afp_ratelimit.h. */
bool
afp_fault_rules_match(const char *kind, const char *code)
{
    pg_wchar    wide[FAULT_CODE_MAX + 1];
    int         len, wlen, i;

    if (!fault_loaded || kind == NULL)
        return false;
    if (code == NULL)
        code = "";              /* as coalesce(code, '') in the record step */
    len = (int) strnlen(code, FAULT_CODE_MAX);
    /* never split a multibyte character; the codes are ASCII in practice */
    len = pg_mbcliplen(code, len, len);
    wlen = pg_mb2wchar_with_len(code, wide, len);
    for (i = 0; i < fault_nrules; i++)
    {
        int         rc;

        if (strcmp(fault_rules[i].kind, kind) != 0)
            continue;
        rc = pg_regexec(&fault_rules[i].re, wide, wlen, 0, NULL, 0, NULL, 0);
        if (rc == REG_OKAY)
            return fault_rules[i].fault;
        if (rc != REG_NOMATCH)
            return false;       /* cancel request or out of memory: no verdict, not a fault */
    }
    return false;
}

PG_FUNCTION_INFO_V1(afp_outcome_provider_fault);

/*
 * afp.outcome_provider_fault(kind, code): what the workers' circuit breaker decides for an
 * outcome code, evaluated by the same C code with the same cache (reloaded when the rules
 * changed). For operators checking their rules, and for the tests.
 */
Datum
afp_outcome_provider_fault(PG_FUNCTION_ARGS)
{
    char       *kind;
    char       *code;
    bool        result;

    if (PG_ARGISNULL(0))
        PG_RETURN_NULL();
    kind = text_to_cstring(PG_GETARG_TEXT_PP(0));
    code = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
    if (SPI_connect() != SPI_OK_CONNECT)
        ereport(ERROR, (errmsg("afp: SPI_connect failed")));
    afp_fault_rules_sync();
    SPI_finish();
    result = afp_fault_rules_match(kind, code);
    PG_RETURN_BOOL(result);
}
