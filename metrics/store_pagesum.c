/*
 * store_pagesum.c - a checksum on every page of the cache file, checked on
 * every read: a damaged block is an error, never a figure.
 *
 * SQLite keeps no checksum of its pages. A block of the file overwritten
 * with garbage that still parses (an index key, a cell count) makes a
 * b-tree scan stop early or skip rows without any error: a count short by
 * 99 %, exit 0. This file is a VFS shim, "sitrep-pagesum", that the store
 * opens every cache through. It stacks on the default VFS and differs from
 * it in the main database file alone:
 *
 *   - a file whose header reserves 8 bytes at the end of each page (byte 20
 *     of the header) and bears the mark of this checksum (its
 *     application_id, PAGESUM_MARK; sr_store makes every new cache so, the
 *     mark in its first write) carries, in those bytes, a checksum of the
 *     rest of the page;
 *   - a write of a whole page computes the checksum into a copy of the page
 *     and writes that copy (SQLite's own buffer is never touched);
 *   - a read of a whole page checks it: a mismatch is SQLITE_IOERR_DATA,
 *     which the store turns into SR_ECORRUPT, and the failing page's offset
 *     is kept for the message (store_pagesum_fault);
 *   - memory-mapped reads are refused, so that every page comes through the
 *     check (SQLite falls back to reading).
 *
 * The -wal is not touched: its frames carry SQLite's own checksums, which
 * SQLite computes over the page before it writes it (a checksum put into
 * the page at write time would break them), and a checkpoint copies each
 * page into the main file through this shim's write, which sums it then.
 * The journal and temporary files pass straight through.
 *
 * A file made before checksums (no reserve, or no mark) reads as before,
 * unchecked. Nothing sitrep does takes the reserve or the mark away, so a
 * file once checked stays checked: a page 1 that says otherwise is damaged
 * and fails its own sum.
 *
 * The sum is Fletcher's two running sums over the page's 32-bit words in
 * eight lanes, in little-endian order whatever the machine (a cache can move between
 * hosts): cheap (well under a microsecond for a 16 KiB page) and it
 * catches any change to one word and nearly every change to many.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

#define PAGESUM_VFS "sitrep-pagesum"

typedef struct {
    sqlite3_file base;   /* our methods; the lower file follows this struct */
    const char *name;    /* borrowed from SQLite; valid while the file is open */
    unsigned page;       /* the page size from the header, 0 until read */
    int checked;         /* the header reserves PAGESUM_BYTES and bears the mark */
    unsigned char *copy; /* a page, for the summed copy a write sends down */
} pagesum_file;

#define LOWER(f) ((sqlite3_file *)((pagesum_file *)(f) + 1))

static _Thread_local int64_t fault_offset = -1;

int64_t store_pagesum_fault(void)
{
    int64_t at = fault_offset;
    fault_offset = -1;
    return at;
}

static void put_le32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

/* The lanes of the sum: word i of a page (4 bytes, little-endian) goes to
 * lane i % LANES, whose two running sums (Fletcher's) see the words in
 * order; the lanes keep the loop free of a chain from one word to the next,
 * so that it runs as vector adds (0.3 us for a 16 KiB page, against 2.3 us
 * for one chain). */
#define LANES 8

/*
 * The sum of page[0 .. len - 8) into out[0 .. 8); len is a multiple of 8.
 * Each lane's first sum starts at its number plus one, so that a page of
 * zeros (a block the disk lost) does not match its own zero bytes.
 */
static void pagesum_compute(const unsigned char *page, size_t len, unsigned char out[PAGESUM_BYTES])
{
    size_t words = (len - PAGESUM_BYTES) / 4, done = 0;
    uint32_t a1[LANES], a2[LANES];
#if defined(__GNUC__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* the whole blocks of LANES words as two vectors of four: the same
     * sums as the loop below, which does it all elsewhere */
    typedef uint32_t v4 __attribute__((vector_size(16)));
    v4 s1[2] = {{1, 2, 3, 4}, {5, 6, 7, 8}}, s2[2] = {{0}, {0}};
    for (; done + LANES <= words; done += LANES) {
        v4 w[2];
        memcpy(w, page + done * 4, sizeof w);
        s1[0] += w[0];
        s1[1] += w[1];
        s2[0] += s1[0];
        s2[1] += s1[1];
    }
    memcpy(a1, s1, sizeof a1);
    memcpy(a2, s2, sizeof a2);
#else
    for (uint32_t k = 0; k < LANES; k++) {
        a1[k] = k + 1;
        a2[k] = 0;
    }
#endif
    for (size_t i = done; i < words; i++) {
        const unsigned char *p = page + i * 4;
        a1[i % LANES] +=
            (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        a2[i % LANES] += a1[i % LANES];
    }
    /* the lanes weighed apart, so that words swapped between them show */
    uint32_t a = 0, b = 0;
    for (uint32_t k = 0; k < LANES; k++) {
        a += a1[k] * (2 * k + 1);
        b += a2[k] * (2 * k + 3);
    }
    put_le32(out, a);
    put_le32(out + 4, b);
}

bool store_pagesum_ok(const unsigned char *page, size_t len)
{
    unsigned char sum[PAGESUM_BYTES];
    pagesum_compute(page, len, sum);
    return memcmp(sum, page + len - PAGESUM_BYTES, PAGESUM_BYTES) == 0;
}

/*
 * Learns the page size and the reserve from a header at the start of buf
 * (len bytes from offset 0). Checking only ever starts here: a header that
 * stops reserving the bytes of a checked file is damage, which the page's
 * own sum reports.
 */
static void pagesum_learn(pagesum_file *f, const unsigned char *buf, int len)
{
    if (len < 100 || memcmp(buf, "SQLite format 3", 16) != 0)
        return;
    unsigned size = (unsigned)buf[16] << 8 | buf[17];
    if (size == 1)
        size = 65536;
    if (size < 512 || size > 65536 || (size & (size - 1)) != 0)
        return;
    uint32_t mark =
        (uint32_t)buf[68] << 24 | (uint32_t)buf[69] << 16 | (uint32_t)buf[70] << 8 | buf[71];
    if (!f->checked && buf[20] == PAGESUM_BYTES && mark == PAGESUM_MARK) {
        f->checked = 1;
        f->page = size;
    } else if (!f->checked) {
        f->page = size;
    }
}

/* Whether a transfer of len bytes at off is one whole page of a checked file. */
static bool whole_page(const pagesum_file *f, int len, sqlite3_int64 off)
{
    return f->checked && f->page && (unsigned)len == f->page && off % f->page == 0;
}

static int pagesum_read(sqlite3_file *file, void *buf, int len, sqlite3_int64 off)
{
    pagesum_file *f = (pagesum_file *)file;
    sqlite3_file *low = LOWER(file);
    int rc = low->pMethods->xRead(low, buf, len, off);
    if (rc != SQLITE_OK)
        return rc;
    if (whole_page(f, len, off) && !store_pagesum_ok(buf, (size_t)len)) {
        fault_offset = off;
        sqlite3_log(SQLITE_IOERR_DATA, "page at byte %lld of %s fails its checksum", off, f->name);
        return SQLITE_IOERR_DATA;
    }
    if (off == 0)
        pagesum_learn(f, buf, len);
    return SQLITE_OK;
}

static int pagesum_write(sqlite3_file *file, const void *buf, int len, sqlite3_int64 off)
{
    pagesum_file *f = (pagesum_file *)file;
    sqlite3_file *low = LOWER(file);
    if (off == 0)
        pagesum_learn(f, buf, len);
    if (!whole_page(f, len, off))
        return low->pMethods->xWrite(low, buf, len, off);
    if (!f->copy && !(f->copy = sqlite3_malloc((int)f->page))) /* the size never changes */
        return SQLITE_NOMEM;
    memcpy(f->copy, buf, (size_t)len);
    pagesum_compute(f->copy, (size_t)len, f->copy + len - PAGESUM_BYTES);
    return low->pMethods->xWrite(low, f->copy, len, off);
}

static int pagesum_close(sqlite3_file *file)
{
    pagesum_file *f = (pagesum_file *)file;
    sqlite3_file *low = LOWER(file);
    sqlite3_free(f->copy);
    f->copy = NULL;
    return low->pMethods->xClose(low);
}

static int pagesum_fetch(sqlite3_file *file, sqlite3_int64 off, int len, void **out)
{
    pagesum_file *f = (pagesum_file *)file;
    if (f->checked) {
        *out = NULL; /* read instead, through the check */
        return SQLITE_OK;
    }
    sqlite3_file *low = LOWER(file);
    return low->pMethods->xFetch(low, off, len, out);
}

static int pagesum_file_control(sqlite3_file *file, int op, void *arg)
{
    sqlite3_file *low = LOWER(file);
    int rc = low->pMethods->xFileControl(low, op, arg);
    if (rc == SQLITE_OK && op == SQLITE_FCNTL_VFSNAME)
        *(char **)arg = sqlite3_mprintf(PAGESUM_VFS "/%z", *(char **)arg);
    return rc;
}

/* ---- the rest passes down ---- */

/* A method of ours named name that calls the lower file's method with the
 * same arguments: its parameters (the first is sqlite3_file *file) and the
 * arguments after the lower file. */
#define DOWN(type, name, method, params, ...)                                                      \
    static type name params                                                                        \
    {                                                                                              \
        return LOWER(file)->pMethods->method(LOWER(file), __VA_ARGS__);                            \
    }
DOWN(int, pagesum_truncate, xTruncate, (sqlite3_file * file, sqlite3_int64 size), size)
DOWN(int, pagesum_sync, xSync, (sqlite3_file * file, int flags), flags)
DOWN(int, pagesum_size, xFileSize, (sqlite3_file * file, sqlite3_int64 *size), size)
DOWN(int, pagesum_lock, xLock, (sqlite3_file * file, int lock), lock)
DOWN(int, pagesum_unlock, xUnlock, (sqlite3_file * file, int lock), lock)
DOWN(int, pagesum_reserved, xCheckReservedLock, (sqlite3_file * file, int *out), out)
DOWN(int, pagesum_shm_map, xShmMap,
     (sqlite3_file * file, int region, int size, int extend, void volatile **out), region, size,
     extend, out)
DOWN(int, pagesum_shm_lock, xShmLock, (sqlite3_file * file, int off, int n, int flags), off, n,
     flags)
DOWN(int, pagesum_shm_unmap, xShmUnmap, (sqlite3_file * file, int delete_flag), delete_flag)
DOWN(int, pagesum_unfetch, xUnfetch, (sqlite3_file * file, sqlite3_int64 off, void *p), off, p)

static void pagesum_shm_barrier(sqlite3_file *file)
{
    LOWER(file)->pMethods->xShmBarrier(LOWER(file));
}

static int pagesum_sector(sqlite3_file *file)
{
    return LOWER(file)->pMethods->xSectorSize(LOWER(file));
}

static int pagesum_device(sqlite3_file *file)
{
    return LOWER(file)->pMethods->xDeviceCharacteristics(LOWER(file));
}

static const sqlite3_io_methods pagesum_methods = {
    .iVersion = 3,
    .xClose = pagesum_close,
    .xRead = pagesum_read,
    .xWrite = pagesum_write,
    .xTruncate = pagesum_truncate,
    .xSync = pagesum_sync,
    .xFileSize = pagesum_size,
    .xLock = pagesum_lock,
    .xUnlock = pagesum_unlock,
    .xCheckReservedLock = pagesum_reserved,
    .xFileControl = pagesum_file_control,
    .xSectorSize = pagesum_sector,
    .xDeviceCharacteristics = pagesum_device,
    .xShmMap = pagesum_shm_map,
    .xShmLock = pagesum_shm_lock,
    .xShmBarrier = pagesum_shm_barrier,
    .xShmUnmap = pagesum_shm_unmap,
    .xFetch = pagesum_fetch,
    .xUnfetch = pagesum_unfetch,
};

/* ---- the VFS ---- */

static int pagesum_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags,
                        int *out_flags)
{
    sqlite3_vfs *lower = vfs->pAppData;
    if (!(flags & SQLITE_OPEN_MAIN_DB))
        return lower->xOpen(lower, name, file, flags, out_flags);
    pagesum_file *f = (pagesum_file *)file;
    memset(f, 0, sizeof *f);
    int rc = lower->xOpen(lower, name, LOWER(file), flags, out_flags);
    if (rc != SQLITE_OK) {
        /* SQLite closes what it opened only when pMethods is set */
        if (LOWER(file)->pMethods)
            LOWER(file)->pMethods->xClose(LOWER(file));
        file->pMethods = NULL;
        return rc;
    }
    f->name = name;
    file->pMethods = &pagesum_methods;
    return SQLITE_OK;
}

/* The VFS: a copy of the default one with its own name and open. */
static sqlite3_vfs pagesum_vfs;

static int register_rc = SQLITE_ERROR;

static void pagesum_register(void)
{
    /* the default VFS of this process is SQLite's unix VFS (sitrep never
     * registers another as the default), whose every method but xOpen
     * ignores the sqlite3_vfs it is called with: the copy calls them as
     * they are; its open calls the lower open with the lower VFS */
    sqlite3_vfs *lower = sqlite3_vfs_find(NULL);
    if (!lower || lower->iVersion < 2)
        return;
    pagesum_vfs = *lower;
    pagesum_vfs.pNext = NULL;
    pagesum_vfs.zName = PAGESUM_VFS;
    pagesum_vfs.pAppData = lower;
    pagesum_vfs.szOsFile = (int)sizeof(pagesum_file) + lower->szOsFile;
    pagesum_vfs.xOpen = pagesum_open;
    register_rc = sqlite3_vfs_register(&pagesum_vfs, 0);
}

const char *store_pagesum_vfs(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, pagesum_register);
    return register_rc == SQLITE_OK ? PAGESUM_VFS : NULL;
}

const char *sr_store_vfs(void)
{
    return store_pagesum_vfs();
}
