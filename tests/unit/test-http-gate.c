/* The request gate: Host allow-list, Origin on POST, Sec-Fetch-Site on
 * the API, JSON only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "hg-http-gate.h"

static HgConfig *config_with(const char *text) {
  g_autofree char *path = NULL;
  g_autoptr(GPtrArray) errors = NULL;
  HgConfig *c = NULL;
  int fd = g_file_open_tmp("hg-gate-XXXXXX.conf", &path, NULL);

  assert_true(fd >= 0);
  close(fd);
  assert_true(g_file_set_contents(path, text, -1, NULL));
  assert_int_equal(hg_config_load(path, &c, &errors), 0);
  g_unlink(path);
  return c;
}

static void test_hosts(void **state) {
  g_autoptr(HgConfig) c =
      config_with("[Http]\nListen=127.0.0.1:8080;[::1]:9090\n"
                  "AllowedHosts=kiosk.example:8080;Other\n");
  g_autoptr(HgHostList) hosts = hg_host_list_new(c);
  const char *ok[] = {"127.0.0.1:8080",     "localhost:8080", "LOCALHOST:8080",
                      "[::1]:8080",         "[::1]:9090",     "localhost:9090",
                      "kiosk.example:8080", "other"};
  const char *bad[] = {NULL,
                       "",
                       "127.0.0.1",
                       "127.0.0.1:9091",
                       "evil.example:8080",
                       "localhost",
                       "kiosk.example",
                       "127.0.0.2:8080",
                       "localhost:8080 ",
                       "localhost:08080"};

  for (size_t i = 0; i < G_N_ELEMENTS(ok); i++)
    if (!hg_host_list_allows(hosts, ok[i]))
      fail_msg("refused %s", ok[i]);
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
    if (hg_host_list_allows(hosts, bad[i]))
      fail_msg("allowed %s", bad[i]);

  /* A reload changes AllowedHosts, never the listen-derived hosts. */
  char new_host[] = "new.example";
  hg_host_list_set_allowed(hosts, (char *[]){new_host, NULL});
  assert_true(hg_host_list_allows(hosts, "new.example"));
  assert_false(hg_host_list_allows(hosts, "other"));
  assert_true(hg_host_list_allows(hosts, "localhost:8080"));
}

static void test_content_type(void **state) {
  assert_true(hg_content_type_is_json("application/json"));
  assert_true(hg_content_type_is_json("Application/JSON; charset=utf-8"));
  assert_true(hg_content_type_is_json("application/json ;charset=utf-8"));
  assert_false(hg_content_type_is_json(NULL));
  assert_false(hg_content_type_is_json("text/plain"));
  assert_false(hg_content_type_is_json("application/jsonp"));
  assert_false(hg_content_type_is_json("application/x-www-form-urlencoded"));
  assert_false(hg_content_type_is_json("multipart/form-data"));
}

static void test_gate(void **state) {
  g_autoptr(HgConfig) c = config_with("[Http]\nListen=127.0.0.1:8080\n");
  g_autoptr(HgHostList) hosts = hg_host_list_new(c);
  const char *host = "127.0.0.1:8080", *json = "application/json";
  HgGateRequest get_page = {false, false, 1, host, NULL, "cross-site", NULL};
  HgGateRequest post = {true, true, 1, host, "http://127.0.0.1:8080",
                        NULL, json};
  HgGateRequest r;

  assert_int_equal(hg_gate_check(hosts, &get_page), HG_GATE_OK);
  assert_int_equal(hg_gate_check(hosts, &post), HG_GATE_OK);

  /* Two Host headers are refused whatever they say (RFC 9112, 3.2). */
  r = post;
  r.n_hosts = 2;
  assert_int_equal(hg_gate_check(hosts, &r), HG_GATE_DUPLICATE_HOST);
  r = post;
  r.host = "evil:8080";
  r.origin = "http://evil:8080";
  assert_int_equal(hg_gate_check(hosts, &r), HG_GATE_BAD_HOST);
  r = post;
  r.origin = NULL;
  assert_int_equal(hg_gate_check(hosts, &r), HG_GATE_BAD_ORIGIN);
  r.origin = "http://localhost:8080"; /* allowed Host, but not this one */
  assert_int_equal(hg_gate_check(hosts, &r), HG_GATE_BAD_ORIGIN);
  r.origin = "https://127.0.0.1:8080";
  assert_int_equal(hg_gate_check(hosts, &r), HG_GATE_BAD_ORIGIN);
  r.origin = "null";
  assert_int_equal(hg_gate_check(hosts, &r), HG_GATE_BAD_ORIGIN);
  r = post;
  r.sec_fetch_site = "same-site";
  assert_int_equal(hg_gate_check(hosts, &r), HG_GATE_CROSS_SITE);
  r.sec_fetch_site = "none";
  assert_int_equal(hg_gate_check(hosts, &r), HG_GATE_CROSS_SITE);
  r.sec_fetch_site = "same-origin";
  assert_int_equal(hg_gate_check(hosts, &r), HG_GATE_OK);
  r = post;
  r.content_type = "text/plain";
  assert_int_equal(hg_gate_check(hosts, &r), HG_GATE_NOT_JSON);
  /* GET on the API: Sec-Fetch-Site still judged, no body type needed. */
  r = (HgGateRequest){false, true, 1, host, NULL, "cross-site", NULL};
  assert_int_equal(hg_gate_check(hosts, &r), HG_GATE_CROSS_SITE);
  r.sec_fetch_site = NULL;
  assert_int_equal(hg_gate_check(hosts, &r), HG_GATE_OK);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hosts),
      cmocka_unit_test(test_content_type),
      cmocka_unit_test(test_gate),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
