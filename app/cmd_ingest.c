/*
 * cmd_ingest.c - `sitrep ingest`
 */
#include "cmd.h"

/* ---- ingest ---- */

#define INGEST_BATCH 50000

typedef struct {
    const sr_config *cfg;
    sr_store *st;
    const char *source;
    long in_batch;
    int64_t accepted, duplicates, rejected;
    sr_progress *progress; /* NULL when stderr is not a terminal */
    FILE *f;               /* the file read, for the bytes read so far */
    long line;             /* the last line handed to the store */
    long kept_line;        /* the last line of the last batch committed; 0 = none */
    int64_t kept;          /* the rows accepted in the batches committed */
} ingest_ctx;

/* Every this many rows, the progress line is told how far the file is read. */
#define INGEST_PROGRESS_ROWS 4096

static void ingest_progress(ingest_ctx *c)
{
    int64_t rows = c->accepted + c->duplicates + c->rejected;
    if (c->progress && rows % INGEST_PROGRESS_ROWS == 0) {
        off_t at = ftello(c->f);
        sr_progress_update(c->progress, rows, at > 0 ? (int64_t)at : 0);
    }
}

static int ingest_flush(ingest_ctx *c)
{
    int rc = sr_store_commit(c->st);
    if (!rc) {
        c->kept_line = c->line;
        c->kept = c->accepted;
        rc = sr_store_begin(c->st);
    }
    c->in_batch = 0;
    return rc;
}

/* Says why a file's load failed, and what of it the cache kept: one
 * message a line. */
static void ingest_failed(const char *file, const ingest_ctx *c, int rc, const char *why)
{
    if (rc == SR_ECORRUPT)
        cache_failed("ingest", c->cfg, c->st, rc);
    else
        fprintf(stderr, "sitrep ingest: %s: %s%s%s\n", file, rc == SR_ENOSPC ? "" : sr_strerror(rc),
                rc == SR_ENOSPC || !why[0] ? "" : ": ", why);
    if (c->kept_line)
        fprintf(stderr,
                "sitrep ingest: %s: kept: the rows up to line %ld (%lld accepted) are committed; "
                "the batch after line %ld was rolled back\n",
                file, c->kept_line, (long long)c->kept, c->kept_line);
    else
        fprintf(stderr, "sitrep ingest: %s: nothing of it was kept (its batch was rolled back)\n",
                file);
    if (rc == SR_ENOSPC)
        fprintf(stderr,
                "sitrep ingest: %s: free some space and run the same ingest again: the rows "
                "already stored are counted as duplicates\n",
                file);
}

static int ingest_reject(void *ctx, long line, const char *raw, const char *reason)
{
    ingest_ctx *c = ctx;
    char where[32];
    c->line = line;
    snprintf(where, sizeof where, "line %ld", line);
    int rc = sr_store_reject(c->st, c->source, where, raw, reason, NULL);
    c->rejected++;
    ingest_progress(c);
    if (!rc && ++c->in_batch >= INGEST_BATCH)
        rc = ingest_flush(c);
    return rc;
}

static int ingest_row(void *ctx, long line, const sr_sample *s)
{
    ingest_ctx *c = ctx;
    bool dup;
    c->line = line;
    int rc = sr_store_put(c->st, s, &dup);
    char fault[160];
    if (rc == SR_EINVAL || rc == SR_ENOENT)
        return ingest_reject(ctx, line, s->entity,
                             rc == SR_ENOENT
                                 ? "metric not defined in the cache"
                                 : sr_store_sample_fault(c->st, s, fault, sizeof fault));
    if (rc)
        return rc;
    if (dup)
        c->duplicates++;
    else
        c->accepted++;
    ingest_progress(c);
    if (++c->in_batch >= INGEST_BATCH)
        rc = ingest_flush(c);
    return rc;
}

const opt_spec ingest_opts[] = {
    {"--config", "FILE", "the configuration (metrics, cache, time zone)"},
    {"--source", "NAME", "the name rejects are filed under (default ingest:FILE)"},
    {NULL, NULL, NULL},
};

/*
 * After a load: the figures of every page at the snapshot's size, computed
 * once and persisted in the cache (sr_store_memo_save, metrics/store.h), so
 * that the next dashboard's first frame or snapshot reads them instead of
 * computing them. Nothing is shown and no role looks (the layout without a
 * role): nothing to audit.
 */
static void warm_pages(const sr_config *cfg, sr_store *st)
{
    sr_layout_data *ld;
    if (cfg->n_pages == 0 || sr_layout_build(cfg, &ld))
        return;
    FILE *null = fopen("/dev/null", "w");
    const sr_tui_layout *lay = sr_layout_get(ld);
    sr_ms now = sr_now_ms();
    for (size_t i = 0; null && i < lay->n_pages; i++) {
        sr_screen_render_text(st, lay, lay->pages[i].name, 160, 48, sr_locale_utf8(), now, null);
        sr_store_memo_save(st, st); /* page by page: the memo is bounded */
    }
    if (null)
        fclose(null);
    sr_layout_destroy(ld);
}

int cmd_ingest(int argc, char **argv)
{
    const command *self = find_command("ingest");
    parsed p;
    parse_opts(self, argc, argv, &p, INT_MAX);
    if (p.npos == 0)
        die_usage(self, "which file? e.g. sitrep ingest samples.csv");
    refuse_elevated("ingest");
    sr_config *cfg = load_config(opt(self, &p, "--config"));
    sr_store *st = open_cache(cfg, SR_STORE_BULK);
    int status = SR_EXIT_OK;
    bool loaded = false;
    for (int i = 0; i < p.npos; i++) {
        const char *file = p.pos[i];
        FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "rb");
        if (!f) {
            fprintf(stderr, "sitrep ingest: %s: %s\n", file, strerror(errno));
            status = SR_EXIT_FAIL;
            continue;
        }
        char source[512];
        const char *named = opt(self, &p, "--source");
        snprintf(source, sizeof source, "%s%s", named ? "" : "ingest:", named ? named : file);
        /* percent and time left from the file's size, when it has one */
        struct stat sb;
        int64_t size = fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode) ? sb.st_size : 0;
        ingest_ctx c = {.cfg = cfg, .st = st, .source = source, .f = f};
        c.progress = sr_progress_create(file, size);
        sr_ingest_sink sink = {&c, ingest_row, ingest_reject};
        char err[512] = "";
        int rc = sr_store_begin(st);
        if (!rc)
            rc = sr_ingest_csv_pipelined(f, &cfg->metrics, cfg->timezone, &sink, NULL, err,
                                         sizeof err);
        sr_progress_destroy(c.progress); /* the line is erased before anything else is said */
        if (f != stdin)
            fclose(f);
        if (rc) {
            sr_store_rollback(st);
            if (rc == SR_EINVAL && err[0])
                fprintf(stderr, "%s:%s\n", file, err + (strncmp(err, "line ", 5) == 0 ? 5 : 0));
            else
                ingest_failed(file, &c, rc, err[0] ? err : sr_store_errmsg(st));
            status = rc == SR_EINVAL ? SR_EXIT_USAGE : SR_EXIT_FAIL;
            continue;
        }
        if ((rc = sr_store_commit(st))) {
            ingest_failed(file, &c, rc, sr_store_errmsg(st));
            status = SR_EXIT_FAIL;
            continue;
        }
        printf("%s: %lld accepted, %lld duplicates, %lld rejected\n", file, (long long)c.accepted,
               (long long)c.duplicates, (long long)c.rejected);
        if (c.rejected && status == SR_EXIT_OK)
            status = SR_EXIT_REJECTS;
        loaded |= c.accepted > 0;
    }
    if (loaded)
        warm_pages(cfg, st);
    sr_store_close(st);
    sr_config_destroy(cfg);
    return status;
}
