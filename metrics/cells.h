/*
 * cells.h - a batch's hour cells in memory, for metrics/store_rollup.c: every
 * sample added to its entity's cell as it is stored, the cells rolled up
 * the entity tree once per batch, and the blob of a cell's per-minute
 * breakdown. The store writes the cells (and knows SQLite); this knows none.
 */
#ifndef SR_CELLS_H
#define SR_CELLS_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "sketch.h"
#include "store.h"

/* One minute inside an hour cell. */
typedef struct {
    int minute; /* 0..59 */
    int64_t n;
    double sum, min, max;
} minute_acc;

typedef struct cell {
    int64_t metric, node;
    sr_ms bucket;
    int used;
    int64_t n;
    double sum, min, max;
    sr_ms last_ts;
    double last;
    sr_sketch *sketch;
    minute_acc *mins; /* sorted by minute; NULL for gauges */
    int nmins;
    int roll_up;  /* merged into the ancestors' cells at flush (not gauges) */
    int zeros;    /* which zeros are among vals: 1 for 0, 2 for -0 */
    double *vals; /* events: every observation, sorted once rolled up (the cell's `vals`) */
    size_t nvals, capvals;
    /* an ancestor's, set by cells_roll_up: */
    int64_t nsrc;      /* the entities' cells rolled into it */
    int64_t via;       /* the child of its node that the first of them came through */
    struct cell *twin; /* the cell whose figures are exactly this one's, or NULL */
    int has_twin;      /* some cell's twin is this one */
    unsigned char *sketch_blob, *vals_blob; /* encoded once when it has a twin (the store's) */
    size_t sketch_len, vals_len;
} cell;

/* The cells of one batch, by (metric, node, hour); open addressing. */
typedef struct {
    cell *v;
    size_t cap, len;
} cellmap;

/* Frees every cell's contents and forgets the cells (the table stays). */
void cells_clear(cellmap *m);

/* cells_clear(), and the table freed. */
void cells_fini(cellmap *m);

/* Adds v at ts to the hour cell of (metric, node) in m; to its minute when
 * with_minutes (events and counters: those roll up), to its values when
 * with_sketch (events: cells_roll_up makes the sketch from them). SR_ENOMEM
 * possible. */
int cells_add(cellmap *m, int64_t metric, int64_t node, sr_ms ts, double v, int with_sketch,
              int with_minutes);

/* The parent of an entity (SR_ENTITY_ROOT's is negative). */
typedef int64_t (*cells_parent_fn)(void *ctx, int64_t node);

/*
 * Gives the entities' cells in `cells` their sketches and rolls them up
 * the tree into the ancestors' cells in `up` (made there): an ancestor's
 * cell holds the figures of every entity's cell below it. Afterwards every
 * cell's values are sorted (but those of a cell with too many to keep).
 * A cell of `up` may get a twin: the cell of the child its figures all
 * came through, whose figures are then exactly its own and are not made
 * twice (a root above a single force): write its figures from the twin.
 * SR_ENOMEM possible.
 */
int cells_roll_up(cellmap *cells, cellmap *up, cells_parent_fn parent, void *ctx);

/*
 * The per-minute breakdown of an hour cell, as a blob: a version byte (2), a
 * count byte, then per minute present (in minute order) 29 bytes: minute
 * (u8), n (u32), sum, min, max (f64), little-endian. Gauges have none.
 * The latest value of a partial hour is read from raw samples (query.c),
 * which keeps a busy hour's breakdown under 2 KB.
 */
#define CELLS_MINUTES_MAX (2 + 60 * 29)

/* Encodes m[0..n) into out (room for CELLS_MINUTES_MAX); returns the length. */
size_t cells_minutes_encode(const minute_acc *m, int n, unsigned char *out);

/* Decodes a blob into out[60] (bucket: the cell's hour); returns the count,
 * or SR_ECORRUPT. */
int cells_minutes_decode(const unsigned char *b, size_t len, sr_ms bucket, sr_minute_cell *out);

/* Merges two minute lists sorted by minute into out (room for 60); returns
 * the count. Minutes present in both are added up. */
int cells_minutes_merge(const minute_acc *a, int na, const minute_acc *b, int nb, minute_acc *out);

#endif
