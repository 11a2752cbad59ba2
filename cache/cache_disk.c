/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache_disk.c: the disk tier's files (see cache.h): block files (read by
 * the I/O thread, written by the writer thread, through the tier's table in
 * cache_tier_disk.c), metadata files (written by the I/O thread, loaded at
 * start by cache_disk_meta_scan, on the main thread before any loop).
 *
 * Threads: the I/O thread, the writer thread, the main thread at start;
 * the loops and the admin thread only for cache_disk_has and
 * cache_disk_stats (the index, no I/O). Never called with the store's lock
 * held. Lock: d->mtx guards the eviction policy (the index of what is on
 * disk) and the counters; file I/O is done outside it, except the unlink of
 * an evicted block, which the policy asks for while the lock is held.
 * No fsync: a crash of the process (kill -9) loses nothing the kernel has;
 * a power loss may leave torn blocks, which their CRC32C catches.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cache/cache.h"
#include "cache/cache_priv.h"

#define BLK_MAGIC	0x4b4c4243u	/* "CBLK" */
#define META_MAGIC	0x3254454du	/* "MET2": the headers last since */
#define HDR_LEN		48	/* magic, length, CRC32C, 0, the 32-byte id */

struct cache_disk {
	unsigned			magic;
#define CACHE_DISK_MAGIC		0xd15cd15c
	pthread_mutex_t			mtx;
	char				*dir;
	int				lock_fd;	/* holds dir/LOCK (flock) */
	struct cache_evict		*ev;
	struct cache_disk_stats		st;
};

/* ---- CRC32C: SSE4.2 where the CPU has it, a table elsewhere ---- */

static uint32_t crc_tbl[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;
static int crc_hw_ok;

static void
crc_init(void)
{
	uint32_t c;
	int i, k;

	for (i = 0; i < 256; i++) {
		c = (uint32_t)i;
		for (k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		crc_tbl[i] = c;
	}
#if defined(__x86_64__)
	__builtin_cpu_init();
	crc_hw_ok = __builtin_cpu_supports("sse4.2");
#endif
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t
crc_hw(uint32_t c, const unsigned char *p, size_t n)
{
	uint64_t c64 = c, v;

	while (n >= 8) {
		memcpy(&v, p, 8);
		c64 = __builtin_ia32_crc32di(c64, v);
		p += 8;
		n -= 8;
	}
	c = (uint32_t)c64;
	while (n-- > 0)
		c = __builtin_ia32_crc32qi(c, *p++);
	return (c);
}
#endif

static uint32_t
crc32c(const void *buf, size_t n)
{
	const unsigned char *p = buf;
	uint32_t c = 0xFFFFFFFFu;

	AZ(pthread_once(&crc_once, crc_init));
#if defined(__x86_64__)
	if (crc_hw_ok)
		return (~crc_hw(c, p, n));
#endif
	while (n-- > 0)
		c = crc_tbl[(c ^ *p++) & 0xff] ^ (c >> 8);
	return (~c);
}

/* ---- Names ---- */

static void
sha256_parts(const struct cm_slice *parts, size_t n, unsigned char out[32])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int len = 32;
	size_t i;

	AN(md);
	AN(EVP_DigestInit_ex(md, EVP_sha256(), NULL));
	for (i = 0; i < n; i++) {
		/* Lengths first: no two part lists hash alike. */
		uint64_t l = parts[i].len;

		AN(EVP_DigestUpdate(md, &l, sizeof l));
		AN(EVP_DigestUpdate(md, parts[i].p, parts[i].len));
	}
	AN(EVP_DigestFinal_ex(md, out, &len));
	EVP_MD_CTX_free(md);
}

void
cache_version_hash(struct cm_slice bucket, struct cm_slice key, const char *etag,
    uint64_t size, unsigned char out[32])
{
	struct cm_slice parts[4] = { bucket, key, cm_slice_str(etag),
	    cm_slice((const char *)&size, sizeof size) };

	sha256_parts(parts, 4, out);
}

void
cache_disk_block_id(const unsigned char vhash[32], uint64_t idx, unsigned char out[32])
{
	struct cm_slice parts[2] = { cm_slice((const char *)vhash, 32),
	    cm_slice((const char *)&idx, sizeof idx) };

	sha256_parts(parts, 2, out);
}

static uint64_t
id64(const unsigned char id[32])
{
	uint64_t v;

	memcpy(&v, id, sizeof v);
	return (v);
}

/* dir/kind/<low byte>/<16 hex>: named by the id's first 64 bits; the
 * whole id is in the file and checked on reading. */
static void
path_of(const struct cache_disk *d, const char *kind, uint64_t id, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/%s/%02x/%016llx", d->dir, kind, (unsigned)(id & 0xff),
	    (unsigned long long)id);
}

static int
mkdirs(const char *dir, const char *kind)
{
	char p[4096];
	int i;

	if (cm_mkdir_p(dir) != 0)
		return (-1);
	snprintf(p, sizeof p, "%s/%s", dir, kind);
	if (mkdir(p, 0755) != 0 && errno != EEXIST)
		return (-1);
	for (i = 0; i < 256; i++) {
		snprintf(p, sizeof p, "%s/%s/%02x", dir, kind, i);
		if (mkdir(p, 0755) != 0 && errno != EEXIST)
			return (-1);
	}
	return (0);
}

/* The policy evicts a block: its file goes (under the lock). */
static void
on_evict(void *arg, uint64_t id, uint64_t size)
{
	struct cache_disk *d = arg;
	char path[4400];

	path_of(d, "blocks", id, path, sizeof path);
	(void)unlink(path);
	d->st.evictions++;
	d->st.blocks--;
	d->st.bytes -= size;
}

/* Indexes the block files already on disk; deletes leftovers. */
static void
scan(struct cache_disk *d)
{
	char sub[4096], p[4400];
	struct dirent *de;
	struct stat sb;
	uint64_t id;
	DIR *dh;
	int i;

	for (i = 0; i < 256; i++) {
		snprintf(sub, sizeof sub, "%s/blocks/%02x", d->dir, i);
		dh = opendir(sub);
		if (dh == NULL)
			continue;
		while ((de = readdir(dh)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(p, sizeof p, "%s/%s", sub, de->d_name);
			if (strlen(de->d_name) != 16 ||
			    sscanf(de->d_name, "%16llx", (unsigned long long *)&id) != 1 ||
			    stat(p, &sb) != 0 || sb.st_size < HDR_LEN) {
				(void)unlink(p);	/* a temporary or foreign file */
				continue;
			}
			(void)cache_evict_s3fifo_ops.access(d->ev, id,
			    (uint64_t)sb.st_size - HDR_LEN);
			d->st.blocks++;
			d->st.bytes += (uint64_t)sb.st_size - HDR_LEN;
		}
		closedir(dh);
	}
}

struct cache_disk *
cache_disk_open(const char *dir, uint64_t capacity, char *err, size_t errlen)
{
	struct cache_disk *d = calloc(1, sizeof *d);
	char path[4200], pid[32];
	ssize_t n;

	if (d == NULL) {
		snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	d->magic = CACHE_DISK_MAGIC;
	d->lock_fd = -1;
	d->dir = strdup(dir);
	if (d->dir == NULL || mkdirs(dir, "blocks") != 0 || mkdirs(dir, "meta") != 0) {
		snprintf(err, errlen, "cannot create the cache directories under '%s': %s", dir,
		    strerror(errno));
		goto fail;
	}
	/* One process per cache directory: two would evict and overwrite each
	 * other's blocks. The lock goes with the process (flock), so a kill -9
	 * leaves nothing to clean up. */
	snprintf(path, sizeof path, "%s/LOCK", dir);
	d->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (d->lock_fd < 0) {
		snprintf(err, errlen, "cannot write in '%s': %s", dir, strerror(errno));
		goto fail;
	}
	if (flock(d->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK) {
			n = pread(d->lock_fd, pid, sizeof pid - 1, 0);
			pid[n > 0 ? n : 0] = '\0';
			pid[strcspn(pid, "\n")] = '\0';
			snprintf(err, errlen, "'%s' is in use by another cachalot (pid %s): give each "
			    "process its own data-dir", dir, pid[0] != '\0' ? pid : "unknown");
		} else
			snprintf(err, errlen, "cannot lock '%s': %s", path, strerror(errno));
		goto fail;
	}
	n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(d->lock_fd, 0) != 0 || pwrite(d->lock_fd, pid, (size_t)n, 0) != n) {
		snprintf(err, errlen, "cannot write in '%s': %s", dir, strerror(errno));
		goto fail;
	}
	d->ev = cache_evict_s3fifo_ops.create(capacity, on_evict, d);
	if (d->ev == NULL || pthread_mutex_init(&d->mtx, NULL) != 0) {
		snprintf(err, errlen, "out of memory");
		if (d->ev != NULL)
			cache_evict_s3fifo_ops.fini(&d->ev);
		goto fail;
	}
	scan(d);
	return (d);
fail:
	if (d->lock_fd >= 0)
		(void)close(d->lock_fd);
	free(d->dir);
	free(d);
	return (NULL);
}

void
cache_disk_close(struct cache_disk **dp)
{
	struct cache_disk *d = *dp;

	*dp = NULL;
	if (d == NULL)
		return;
	cache_evict_s3fifo_ops.fini(&d->ev);
	pthread_mutex_destroy(&d->mtx);
	(void)close(d->lock_fd);		/* releases the lock */
	free(d->dir);
	d->magic = 0;
	free(d);
}

void
cache_disk_stats(struct cache_disk *d, struct cache_disk_stats *out)
{
	CM_ASSERT(d->magic == CACHE_DISK_MAGIC);
	pthread_mutex_lock(&d->mtx);
	*out = d->st;
	pthread_mutex_unlock(&d->mtx);
}

static void
put_u32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static uint32_t
get_u32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return (v);
}

/* Reads exactly n bytes; -1 on short reads or errors. */
static int
read_full(int fd, void *buf, size_t n)
{
	char *p = buf;
	ssize_t r;

	while (n > 0) {
		r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return (-1);
		p += r;
		n -= (size_t)r;
	}
	return (0);
}

static int
write_full(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return (-1);
		p += w;
		n -= (size_t)w;
	}
	return (0);
}

int
cache_disk_has(struct cache_disk *d, const unsigned char id[32])
{
	int rv;

	CM_ASSERT(d->magic == CACHE_DISK_MAGIC);
	pthread_mutex_lock(&d->mtx);
	rv = cache_evict_s3fifo_ops.holds(d->ev, id64(id));
	pthread_mutex_unlock(&d->mtx);
	return (rv);
}

int
cache_disk_get(struct cache_disk *d, const unsigned char id[32], char *buf, size_t len)
{
	unsigned char hdr[HDR_LEN];
	char path[4400];
	int fd, rv = -2;

	CM_ASSERT(d->magic == CACHE_DISK_MAGIC);
	path_of(d, "blocks", id64(id), path, sizeof path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return (-1);
	if (read_full(fd, hdr, sizeof hdr) == 0 && memcmp(hdr + 16, id, 32) != 0) {
		close(fd);
		return (-1);	/* another block with the same 64-bit name */
	}
	if (get_u32(hdr) == BLK_MAGIC && get_u32(hdr + 4) == (uint32_t)len &&
	    read_full(fd, buf, len) == 0 && crc32c(buf, len) == get_u32(hdr + 8))
		rv = 0;
	close(fd);
	pthread_mutex_lock(&d->mtx);
	if (rv == 0) {
		d->st.reads++;
		(void)cache_evict_s3fifo_ops.access(d->ev, id64(id), len);
	} else {
		/* Never served: gone, counted, fetched again by the caller. */
		d->st.corrupt++;
		cache_evict_s3fifo_ops.remove(d->ev, id64(id));
		(void)unlink(path);
	}
	pthread_mutex_unlock(&d->mtx);
	return (rv);
}

int
cache_disk_put(struct cache_disk *d, const unsigned char id[32], const char *buf, size_t len)
{
	unsigned char hdr[HDR_LEN];
	char path[4400], tmp[4500];
	int fd;

	CM_ASSERT(d->magic == CACHE_DISK_MAGIC);
	path_of(d, "blocks", id64(id), path, sizeof path);
	snprintf(tmp, sizeof tmp, "%s.%d.tmp", path, (int)gettid());
	memset(hdr, 0, sizeof hdr);
	put_u32(hdr, BLK_MAGIC);
	put_u32(hdr + 4, (uint32_t)len);
	put_u32(hdr + 8, crc32c(buf, len));
	memcpy(hdr + 16, id, 32);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write_full(fd, hdr, sizeof hdr) != 0 || write_full(fd, buf, len) != 0 ||
	    close(fd) != 0 || rename(tmp, path) != 0) {
		if (fd >= 0)
			(void)unlink(tmp);
		pthread_mutex_lock(&d->mtx);
		d->st.errors++;
		pthread_mutex_unlock(&d->mtx);
		return (-1);
	}
	pthread_mutex_lock(&d->mtx);
	d->st.writes++;
	/* A block already indexed (written again) is not counted twice. */
	if (cache_evict_s3fifo_ops.access(d->ev, id64(id), len) == 0) {
		d->st.blocks++;
		d->st.bytes += len;
	}
	pthread_mutex_unlock(&d->mtx);
	return (0);
}

/* ---- Metadata ---- */

struct meta_file {
	uint32_t		magic;
	uint32_t		crc;		/* of what follows */
	int64_t			validated_wall;
	uint32_t		blen;
	uint32_t		klen;
	struct cache_meta	m;
	char			names[];	/* bucket then key */
};

static void
meta_id(struct cm_slice bucket, struct cm_slice key, unsigned char out[32])
{
	struct cm_slice parts[2] = { bucket, key };

	sha256_parts(parts, 2, out);
}

int
cache_disk_meta_put(struct cache_disk *d, struct cm_slice bucket, struct cm_slice key,
    const struct cache_meta *m, int64_t validated_wall)
{
	unsigned char id[32];
	char path[4400], tmp[4500];
	size_t n = sizeof(struct meta_file) + bucket.len + key.len;
	struct meta_file *f;
	int fd, rv = -1;

	CM_ASSERT(d->magic == CACHE_DISK_MAGIC);
	if (bucket.len > 1024 || key.len > 4096)
		return (-1);
	f = calloc(1, n);
	if (f == NULL)
		return (-1);
	f->magic = META_MAGIC;
	f->validated_wall = validated_wall;
	f->blen = (uint32_t)bucket.len;
	f->klen = (uint32_t)key.len;
	memcpy(&f->m, m, CACHE_META_USED(m));	/* m may be stored compact */
	memcpy(f->names, bucket.p, bucket.len);
	memcpy(f->names + bucket.len, key.p, key.len);
	f->crc = crc32c((const char *)f + 8, n - 8);
	meta_id(bucket, key, id);
	path_of(d, "meta", id64(id), path, sizeof path);
	snprintf(tmp, sizeof tmp, "%s.%d.tmp", path, (int)gettid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0 && write_full(fd, f, n) == 0 && close(fd) == 0 && rename(tmp, path) == 0)
		rv = 0;
	else if (fd >= 0)
		(void)unlink(tmp);
	free(f);
	return (rv);
}

int
cache_disk_meta_get(struct cache_disk *d, struct cm_slice bucket, struct cm_slice key,
    struct cache_meta *m, int64_t *validated_wall)
{
	unsigned char id[32];
	char path[4400];
	size_t n = sizeof(struct meta_file) + bucket.len + key.len;
	struct meta_file *f;
	struct stat sb;
	int fd, rv = -1;

	CM_ASSERT(d->magic == CACHE_DISK_MAGIC);
	if (bucket.len > 1024 || key.len > 4096)
		return (-1);
	meta_id(bucket, key, id);
	path_of(d, "meta", id64(id), path, sizeof path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return (-1);
	f = calloc(1, n);
	if (f != NULL && fstat(fd, &sb) == 0 && (size_t)sb.st_size == n &&
	    read_full(fd, f, n) == 0 && f->magic == META_MAGIC &&
	    f->crc == crc32c((const char *)f + 8, n - 8) && f->blen == bucket.len &&
	    f->klen == key.len && memcmp(f->names, bucket.p, bucket.len) == 0 &&
	    memcmp(f->names + bucket.len, key.p, key.len) == 0 &&
	    f->m.hdrs_full_len <= sizeof f->m.hdrs && f->m.hdrs_len <= f->m.hdrs_full_len &&
	    memchr(f->m.etag, '\0', sizeof f->m.etag) != NULL) {
		*m = f->m;
		*validated_wall = f->validated_wall;
		rv = 0;
	}
	close(fd);
	free(f);
	return (rv);
}

void
cache_disk_meta_remove(struct cache_disk *d, struct cm_slice bucket, struct cm_slice key)
{
	unsigned char id[32];
	char path[4400];

	CM_ASSERT(d->magic == CACHE_DISK_MAGIC);
	meta_id(bucket, key, id);
	path_of(d, "meta", id64(id), path, sizeof path);
	(void)unlink(path);
}

int
cache_disk_meta_load(const char *path, struct cache_meta *m, int64_t *validated_wall,
    char *bucket, size_t *blen, char *key, size_t *klen)
{
	struct meta_file *f = NULL;
	struct stat sb;
	int fd, rv = -1;
	size_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return (-1);
	if (fstat(fd, &sb) != 0 || (size_t)sb.st_size < sizeof *f ||
	    (size_t)sb.st_size > sizeof *f + 1024 + 4096)
		goto out;
	n = (size_t)sb.st_size;
	f = malloc(n);
	if (f == NULL || read_full(fd, f, n) != 0 || f->magic != META_MAGIC ||
	    f->crc != crc32c((const char *)f + 8, n - 8) || f->blen > 1024 || f->klen > 4096 ||
	    sizeof *f + f->blen + f->klen != n || f->m.hdrs_full_len > sizeof f->m.hdrs ||
	    f->m.hdrs_len > f->m.hdrs_full_len || memchr(f->m.etag, '\0', sizeof f->m.etag) == NULL)
		goto out;
	*m = f->m;
	*validated_wall = f->validated_wall;
	memcpy(bucket, f->names, f->blen);
	bucket[f->blen] = '\0';
	*blen = f->blen;
	memcpy(key, f->names + f->blen, f->klen);
	key[f->klen] = '\0';
	*klen = f->klen;
	rv = 0;
out:
	free(f);
	close(fd);
	return (rv);
}

const char *
cache_disk_dir(const struct cache_disk *d)
{
	CM_ASSERT(d->magic == CACHE_DISK_MAGIC);
	return (d->dir);
}

void
cache_disk_meta_scan(struct cache_disk *d, cache_disk_meta_cb *cb, void *arg)
{
	char dir[4200], p[4500];
	struct dirent *de;
	DIR *dh;
	int i;

	CM_ASSERT(d->magic == CACHE_DISK_MAGIC);
	for (i = 0; i < 256; i++) {
		snprintf(dir, sizeof dir, "%s/meta/%02x", d->dir, i);
		dh = opendir(dir);
		if (dh == NULL)
			continue;
		while ((de = readdir(dh)) != NULL) {
			struct cache_meta m;
			char bucket[1025], key[4097];
			size_t bl, kl;
			int64_t vw;

			if (de->d_name[0] == '.')
				continue;
			snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
			if (cache_disk_meta_load(p, &m, &vw, bucket, &bl, key, &kl) != 0) {
				(void)unlink(p);
				continue;
			}
			cb(arg, cm_slice(bucket, bl), cm_slice(key, kl), &m, vw);
		}
		closedir(dh);
	}
}
