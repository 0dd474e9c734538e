/* Built-in and WebRoot assets; see hg-web-assets.h. */
#include "hg-web-assets.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hg-macros.h"

#define RESOURCE_PREFIX "/org/hourglass/web/"
#define ASSET_MAX_SIZE (8 * 1024 * 1024)
#define ASSET_NAME_MAX 255

struct HgWebAssets {
  int root_fd; /* WebRoot, or -1 */
  char *csp;
};

static const struct {
  const char *suffix, *type;
} content_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".json", "application/json"},
    {".txt", "text/plain; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".ico", "image/x-icon"},
    {".webp", "image/webp"},
    {".woff2", "font/woff2"},
};

static const char *content_type_of(const char *name) {
  for (size_t i = 0; i < HG_ELEMENTSOF(content_types); i++)
    if (g_str_has_suffix(name, content_types[i].suffix))
      return content_types[i].type;
  return "application/octet-stream";
}

bool hg_web_asset_name_valid(const char *name) {
  g_auto(GStrv) parts = NULL;

  if (!name || !*name || strlen(name) > ASSET_NAME_MAX)
    return false;
  for (const char *p = name; *p; p++)
    if (!g_ascii_isalnum(*p) && !strchr("._-/", *p))
      return false;
  parts = g_strsplit(name, "/", -1);
  for (char **p = parts; *p; p++)
    if (!**p || strcmp(*p, ".") == 0 || strcmp(*p, "..") == 0)
      return false;
  return true;
}

int hg_web_assets_new(const char *web_root, const char *web_root_csp,
                      HgWebAssets **ret) {
  HgWebAssets *a = g_new0(HgWebAssets, 1);

  a->root_fd = -1;
  a->csp = g_strdup(web_root_csp);
  if (web_root) {
    a->root_fd = open(web_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (a->root_fd < 0) {
      int r = -errno;
      hg_web_assets_free(a);
      return r;
    }
  }
  *ret = a;
  return 0;
}

HgWebAssets *hg_web_assets_free(HgWebAssets *a) {
  if (a) {
    hg_close_nointr(a->root_fd);
    g_free(a->csp);
    g_free(a);
  }
  return NULL;
}

/* Without openat2 (old kernels, valgrind): one component at a time, none
 * of them a symlink. The name is already free of "." and "..". */
static int open_walk(int root_fd, const char *name) {
  g_auto(GStrv) parts = g_strsplit(name, "/", -1);
  _cleanup_close_ int dir = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);

  if (dir < 0)
    return -errno;
  for (char **p = parts; *p; p++) {
    bool last = !p[1];
    int fd = openat(dir, *p,
                    O_CLOEXEC | O_NOFOLLOW |
                        (last ? O_RDONLY : O_PATH | O_DIRECTORY));
    if (fd < 0)
      return errno == ENOTDIR ? -ELOOP : -errno;
    hg_close_nointr(dir);
    dir = fd;
  }
  return TAKE_FD(dir);
}

/* Beneath the root and through no symlink, whatever the name says; the
 * name check above already refuses "..", this is the kernel's guarantee. */
static int open_beneath(int root_fd, const char *name) {
  struct open_how how = {
      .flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW,
      .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
  };
  long fd = syscall(SYS_openat2, root_fd, name, &how, sizeof(how));

  if (fd < 0 && errno == ENOSYS)
    return open_walk(root_fd, name);
  return fd < 0 ? -errno : (int)fd;
}

static int read_small_file(int fd, char **ret, size_t *ret_len) {
  g_autofree char *buf = NULL;
  struct stat st;
  size_t done = 0;

  if (fstat(fd, &st) < 0)
    return -errno;
  if (!S_ISREG(st.st_mode))
    return -EISDIR;
  if (st.st_size > ASSET_MAX_SIZE)
    return -EFBIG;
  buf = g_malloc((size_t)st.st_size + 1);
  while (done < (size_t)st.st_size) {
    ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -errno;
    if (n == 0)
      break;
    done += (size_t)n;
  }
  *ret_len = done;
  *ret = g_steal_pointer(&buf);
  return 0;
}

static int lookup_web_root(HgWebAssets *a, const char *name,
                           struct MHD_Response **ret) {
  _cleanup_close_ int fd = open_beneath(a->root_fd, name);
  struct MHD_Response *r;
  size_t len = 0;
  char *data = NULL;
  int err;

  if (fd < 0)
    return fd;
  err = read_small_file(fd, &data, &len);
  if (err < 0)
    return err;
  r = MHD_create_response_from_buffer_with_free_callback(len, data, g_free);
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                          content_type_of(name));
  MHD_add_response_header(r, "Content-Security-Policy", a->csp);
  *ret = r;
  return 0;
}

static int lookup_builtin(const char *name, struct MHD_Response **ret) {
  g_autofree char *path = g_strconcat(RESOURCE_PREFIX, name, NULL);
  g_autoptr(GBytes) bytes =
      g_resources_lookup_data(path, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  struct MHD_Response *r;
  gsize len;
  const void *data;

  if (!bytes)
    return -ENOENT;
  /* Compiled-in data lives as long as the program. */
  data = g_bytes_get_data(bytes, &len);
  r = MHD_create_response_from_buffer(len, (void *)data,
                                      MHD_RESPMEM_PERSISTENT);
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                          content_type_of(name));
  *ret = r;
  return 0;
}

int hg_web_assets_lookup(HgWebAssets *a, const char *name,
                         struct MHD_Response **ret) {
  int r;

  if (!hg_web_asset_name_valid(name))
    return -ENOENT;
  if (a->root_fd >= 0) {
    r = lookup_web_root(a, name, ret);
    /* Only a file that is not there falls back to the built-in one: a
     * symlink or anything but a plain file in its place is refused. */
    if (r != -ENOENT)
      return r == -ELOOP || r == -EXDEV || r == -EISDIR ? -ENOENT : r;
  }
  return lookup_builtin(name, ret);
}
