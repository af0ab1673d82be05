/*
 * adapter.h - the adapter ABI: how sitrep talks to a data source.
 *
 * One ABI for built-in adapters and for plugins loaded at run time. An
 * adapter is a `static const sr_adapter` table of function pointers:
 *
 *   open(options, &state, err)   on the loop thread, once, when the config
 *                                 is loaded; checks options, allocates state
 *   poll(state, info, sink)      on a worker thread, never twice at once for
 *                                 one state; emits samples and rejects
 *   close(state)                 on the loop thread, after the last poll
 *
 * A plugin is a shared object that exports one symbol,
 * `const sr_adapter *sitrep_adapter(void)` (SR_ADAPTER_ENTRY), whose
 * abi_version sitrep checks before calling anything else.
 *
 * Versions: a version only ever adds fields at the end of a struct that
 * sitrep allocates (sr_poll_info), so sitrep accepts every version from
 * SR_ADAPTER_ABI_MIN to SR_ADAPTER_ABI. A plugin built for an older
 * version never sees the newer fields (sitrep zeroes them before each
 * poll, and reads them only from adapters of a version that has them); a
 * plugin built for a newer version is refused by an older sitrep, whose
 * struct would be too short. Version 2 added the progress of a poll.
 * Version 3 added the config's value maps (sr_ad_options.maps), where a
 * sample came from (sr_sink.where and raw), so that a sample the sink
 * refuses is rejected with its line and the input as read, and an
 * adapter's own warnings for check-config (sr_adapter.check), which sitrep
 * reads only from a table whose abi_version is 3 or more.
 *
 * Adapters never see SQLite, curses or libuv: they receive options as text
 * and hand samples to a sink, which copies what it is given. This header
 * depends on the C standard library alone.
 */
#ifndef SR_ADAPTER_H
#define SR_ADAPTER_H

#include <stddef.h>
#include <stdint.h>

#define SR_ADAPTER_ABI 3     /* what this header describes */
#define SR_ADAPTER_ABI_MIN 1 /* the oldest version sitrep still loads */
#define SR_ADAPTER_ENTRY "sitrep_adapter"

/* One observation, as an adapter hands it to the sink (all borrowed). */
typedef struct {
    const char *metric; /* a metric name of the config */
    const char *entity; /* "force/north/district-3/unit-12" */
    int64_t ts_ms;      /* UTC milliseconds since the epoch */
    double value;
    const char *key; /* source key making ingest idempotent; NULL = none */
} sr_ad_sample;

/*
 * Where a poll puts what it read. Both functions copy their arguments and
 * return 0, or a negative number when the sink cannot take more (the poll
 * should then stop and return).
 */
typedef struct sr_sink sr_sink;
struct sr_sink {
    void *ctx;
    int (*emit)(sr_sink *sink, const sr_ad_sample *sample);
    /* raw: the input as read (a line, a row); where: "line 12" or NULL */
    int (*reject)(sr_sink *sink, const char *where, const char *raw, const char *reason);
    /* Version 3. Set by the adapter before emit (borrowed until emit returns;
     * NULL = not known): where the sample came from and the input as read,
     * which the sink uses when it rejects the sample itself (a metric the
     * config does not define). sitrep zeroes both; an adapter that sets them
     * sets them back to NULL after emit. */
    const char *where, *raw;
};

/* One `key = value` of the adapter's config section (borrowed). */
typedef struct {
    const char *key;
    const char *value;
    int line; /* line in the config file, for messages */
} sr_ad_option;

/*
 * What sitrep lends an adapter: time arithmetic that needs the time zone
 * database (which the C library keeps process-global). Every function is
 * thread-safe and may be called from poll(). Returns 0, or negative for
 * input it cannot read or an unknown zone.
 */
typedef struct {
    /* A wall-clock time in zone tz (NULL or "" = UTC) to UTC ms; fields may
     * be out of range (they carry over, as mktime's do). A time a DST change
     * makes ambiguous is its first, earlier occurrence; a time in a gap is
     * moved forward by the gap (Python zoneinfo's default, fold = 0). */
    int (*local_to_utc)(const char *tz, int year, int mon, int mday, int hour, int min, double sec,
                        int64_t *out_ms);
    /* ISO-8601 with or without a zone (naive = in tz), a date alone, or
     * epoch seconds, to UTC ms. */
    int (*parse_time)(const char *text, const char *tz, int64_t *out_ms);
    /* 1 when tz names a zone this machine knows, or is NULL/""/"UTC". */
    int (*tz_valid)(const char *tz);
} sr_ad_host;

/*
 * Version 3. One [map.NAME] section of the config: a value map that a
 * template applies to a field ({Field|NAME}). Each entry's key is a value
 * as a source writes it and its value the text that replaces it; the key
 * `default` is what every other value becomes (without it, another value
 * is rejected). All borrowed.
 */
typedef struct {
    const char *name;      /* NAME of [map.NAME] */
    const sr_ad_option *v; /* the entries, in file order */
    size_t n;
    int line; /* line of the section header */
} sr_ad_valmap;

typedef struct {
    const sr_ad_option *v;
    size_t n;
    const char *name;       /* the section's NAME in [adapter.NAME] */
    const char *config_dir; /* directory of the config file, for relative paths */
    const sr_ad_host *host; /* borrowed; valid for the adapter's whole life */
    const char *timezone;   /* [sitrep] timezone, the default for naive times */
    /* Version 3: every [map.NAME] of the config (borrowed, like the rest). */
    const sr_ad_valmap *maps;
    size_t n_maps;
} sr_ad_options;

/* An option the adapter type understands, for validation and help. */
typedef struct {
    const char *key;
    int required; /* 1 = open() fails without it */
    const char *help;
} sr_ad_option_spec;

/* What a poll is told. */
typedef struct {
    int64_t now_ms;     /* the time of this poll (UTC ms) */
    int64_t since_ms;   /* cursor: now_ms of the last successful poll, 0 = never */
    int64_t timeout_ms; /* budget for this poll; give up after it */
    int more;           /* out: set to 1 when the poll stopped early and
                           should be called again at once (a backfill in chunks) */
    int64_t cursor_ms;  /* out: where the next poll's since_ms should start;
                           0 = now_ms */
    /* Version 2. out, with more = 1: how far a backfill in chunks has got,
     * done of total in units of the adapter's choosing (the simulator:
     * milliseconds of history written, of the span from where the backfill
     * began to now_ms); total 0 = not known. A dashboard shows it in panels
     * that have no data yet as "loading history N %". */
    int64_t progress_done, progress_total;
} sr_poll_info;

typedef struct sr_adapter {
    uint32_t abi_version; /* SR_ADAPTER_ABI */
    const char *type;     /* "sim", "csv", ... as in `type =` */
    const char *description;
    const sr_ad_option_spec *options; /* the type's own keys, ends with {NULL} */
    /*
     * Checks options and creates the state. On failure returns negative and
     * writes a message (naming the option) into err; *state is untouched.
     */
    int (*open)(const sr_ad_options *opts, void **state, char *err, size_t errlen);
    /*
     * Reads what is new since info->since_ms and hands it to sink. Returns 0
     * on success; on failure returns negative with a message in err. Samples
     * emitted before a failure are kept.
     */
    int (*poll)(void *state, sr_poll_info *info, sr_sink *sink, char *err, size_t errlen);
    void (*close)(void *state);
    /*
     * Version 3, optional (NULL = none). What `sitrep check-config` may
     * warn about an opened source without polling it (the csv adapter: a
     * header that has a mapped column name twice). On the loop thread,
     * never during a poll. Returns 1 with a warning in msg, else 0.
     */
    int (*check)(void *state, char *msg, size_t len);
} sr_adapter;

typedef const sr_adapter *(*sr_adapter_entry_fn)(void);

/* Value of option key, or NULL (borrowed from opts). */
static inline const char *sr_ad_opt(const sr_ad_options *opts, const char *key)
{
    for (size_t i = opts->n; i-- > 0;) {
        const char *a = opts->v[i].key, *b = key;
        while (*a && *a == *b) {
            a++;
            b++;
        }
        if (*a == *b)
            return opts->v[i].value;
    }
    return NULL;
}

#endif
