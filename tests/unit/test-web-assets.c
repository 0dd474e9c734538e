/* Assets: built-in pages, WebRoot overrides, and names that must never
 * reach the file system. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "hg-web-assets.h"
#include "hg-web-resources.h"

static void test_names(void **state) {
  const char *ok[] = {"login.html", "assets/style.css", "a/b-c_d.e/f.js"};
  const char *bad[] = {
      NULL,   "",   "/etc/passwd", "..",  "assets/../x", "./login.html",
      "a//b", "a/", "a\\b",        "a b", "a%2e",        "ü.js"};

  for (size_t i = 0; i < G_N_ELEMENTS(ok); i++)
    assert_true(hg_web_asset_name_valid(ok[i]));
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
    if (hg_web_asset_name_valid(bad[i]))
      fail_msg("accepted %s", bad[i]);
}

static void test_builtin(void **state) {
  g_autoptr(HgWebAssets) a = NULL;
  struct MHD_Response *r = NULL;

  assert_int_equal(hg_web_assets_new(NULL, "csp", &a), 0);
  assert_int_equal(hg_web_assets_lookup(a, "login.html", &r), 0);
  assert_string_equal(MHD_get_response_header(r, "Content-Type"),
                      "text/html; charset=utf-8");
  assert_null(MHD_get_response_header(r, "Content-Security-Policy"));
  MHD_destroy_response(r);
  assert_int_equal(hg_web_assets_lookup(a, "assets/style.css", &r), 0);
  MHD_destroy_response(r);
  assert_int_equal(hg_web_assets_lookup(a, "nope.html", &r), -ENOENT);
  assert_int_equal(hg_web_assets_lookup(a, "../login.html", &r), -ENOENT);
}

static void test_web_root(void **state) {
  g_autofree char *dir = g_dir_make_tmp("hg-webroot-XXXXXX", NULL);
  g_autofree char *assets = g_build_filename(dir, "assets", NULL);
  g_autofree char *css = g_build_filename(assets, "style.css", NULL);
  g_autofree char *link = g_build_filename(assets, "link.css", NULL);
  g_autofree char *sub = g_build_filename(assets, "sub.css", NULL);
  g_autoptr(HgWebAssets) a = NULL;
  struct MHD_Response *r = NULL;

  assert_int_equal(g_mkdir(assets, 0700), 0);
  assert_true(g_file_set_contents(css, "body{}", -1, NULL));
  assert_int_equal(symlink("/etc/passwd", link), 0);
  assert_int_equal(g_mkdir(sub, 0700), 0);

  assert_int_equal(hg_web_assets_new(dir, "default-src 'self'", &a), 0);
  assert_int_equal(hg_web_assets_lookup(a, "assets/style.css", &r), 0);
  assert_string_equal(MHD_get_response_header(r, "Content-Security-Policy"),
                      "default-src 'self'");
  MHD_destroy_response(r);
  /* Missing in WebRoot: the built-in one. */
  assert_int_equal(hg_web_assets_lookup(a, "login.html", &r), 0);
  assert_null(MHD_get_response_header(r, "Content-Security-Policy"));
  MHD_destroy_response(r);
  /* A symlink or a folder in its place: refused, no fallback. */
  assert_int_equal(hg_web_assets_lookup(a, "assets/link.css", &r), -ENOENT);
  assert_int_equal(hg_web_assets_lookup(a, "assets/sub.css", &r), -ENOENT);

  g_unlink(css);
  g_unlink(link);
  g_rmdir(sub);
  g_rmdir(assets);
  g_rmdir(dir);
}

static void test_missing_web_root(void **state) {
  HgWebAssets *a = NULL;

  assert_int_equal(hg_web_assets_new("/nonexistent/hg", "x", &a), -ENOENT);
  assert_null(a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_names),
      cmocka_unit_test(test_builtin),
      cmocka_unit_test(test_web_root),
      cmocka_unit_test(test_missing_web_root),
  };
  hg_web_register_resource();
  return cmocka_run_group_tests(tests, NULL, NULL);
}
