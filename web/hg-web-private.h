/* What the web modules (routes, login, event streams) share. */
#pragma once

#include <json-glib/json-glib.h>

#include "hg-ended-tokens.h"
#include "hg-fdstore.h"
#include "hg-http-gate.h"
#include "hg-http-server.h"
#include "hg-log.h"
#include "hg-web-assets.h"
#include "hg-web-events.h"
#include "hg-web.h"

typedef struct HgWebLogin HgWebLogin;

struct HgWeb {
  sd_event *event;
  HgRegistry *reg;
  const HgConfig *config;
  HgHttpServer *server;
  HgHostList *hosts;
  HgWebAssets *assets;
  HgEndedTokens *ended;
  HgWebLogin *login;
  HgWebEvents *events;
  HgFdStore *fdstore;
  HgDaily *daily;
  HgLogLimit unknown_token_log;
  HgLogLimit foreign_token_log;
};

/* JSON answers. */
void hg_web_respond_json(HgHttpRequest *req, unsigned status, JsonNode *node);
void hg_web_respond_error(HgHttpRequest *req, unsigned status,
                          const char *error);
/* The id of the live session the request's cookie names, or NULL. */
const char *hg_web_session_id_of(HgWeb *web, HgHttpRequest *req);
/* The session state object of the contract. */
JsonNode *hg_web_session_state(HgWeb *web, HgSession *s);

/* hg-web-login.c: POST /api/login and the PAM sessions of web logins. */
int hg_web_login_new(HgWeb *web, HgWebLogin **ret);
HgWebLogin *hg_web_login_free(HgWebLogin *login);
/* After web->config changed. */
void hg_web_login_reload(HgWebLogin *login);
/* Restored web sessions get their PAM helper back from the fd store; one
 * whose helper is gone ends (reason shutdown) with a journal line. */
void hg_web_login_take_back(HgWebLogin *login);
/* At the end of this run, leave every PAM session open for the next. */
void hg_web_login_keep(HgWebLogin *login);
void hg_web_login_handle(HgWebLogin *login, HgHttpRequest *req,
                         JsonObject *body);
