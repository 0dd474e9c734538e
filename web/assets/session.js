/*
 * hourglass session page: who is signed in, the idle limit, and "Sign out".
 *
 * Kept small on purpose. The richer client (activity reporting, the warning
 * dialog, the event stream) comes in client.js and plugs in through two DOM
 * events on document, so neither script needs a global:
 *   "hg:session-state"  detail = the GET /api/session object -> the page re-renders
 *   "hg:session-ended"  detail = {reason: "idle-timeout"|...|""} -> back to the login page
 * Until the event stream exists, this script polls GET /api/session, which
 * also keeps the session alive while the page is open (see CloseAfterSec).
 */
(function () {
  'use strict';

  const STRINGS = window.HG_STRINGS || {};
  const REFRESH_MS = 5000;   /* well under the default CloseAfterSec (30 s) */
  const EVENT_STATE = 'hg:session-state';
  const EVENT_ENDED = 'hg:session-ended';

  const el = {};
  const state = {
    timer: 0,
    inFlight: false,
    loggingOut: false,
    leaving: false,
    offline: false,
    user: null,
    limit: null
  };

  /* ---- strings ---- */

  function t(id, vars) {
    const text = typeof STRINGS[id] === 'string' ? STRINGS[id] : id;
    if (!vars) return text;
    return text.replace(/\{(\w+)\}/g, function (all, name) {
      return Object.prototype.hasOwnProperty.call(vars, name) ? String(vars[name]) : all;
    });
  }

  function tPlural(id, count, vars) {
    let category = 'other';
    try {
      category = new Intl.PluralRules(document.documentElement.lang || 'en').select(count);
    } catch (e) { /* unknown language tag: use "other" */ }
    const key = typeof STRINGS[id + '.' + category] === 'string' ? id + '.' + category : id + '.other';
    return t(key, vars);
  }

  /* ---- server ---- */

  async function api(method, path, body) {
    const init = {
      method: method,
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      cache: 'no-store'
    };
    if (body !== undefined) init.body = JSON.stringify(body);
    const response = await fetch(path, init);
    let data = null;
    try { data = await response.json(); } catch (e) { /* not JSON: judged by status */ }
    return { response: response, data: data };
  }

  function emit(name, detail) {
    document.dispatchEvent(new CustomEvent(name, { detail: detail }));
  }

  function endedReason(data) {
    return data && data.error === 'session-ended' && typeof data.reason === 'string' ? data.reason : '';
  }

  /* ---- rendering ---- */

  function showAlert(message) {
    el.alert.replaceChildren();
    if (!message) return;
    const p = document.createElement('p');
    p.textContent = message;
    el.alert.append(p);
  }

  function setOffline(offline) {
    if (offline === state.offline) return;
    state.offline = offline;
    el.connection.textContent = offline ? t('session.offline') : '';
  }

  /* "Signed in as {user}" with the name in <strong>, built without innerHTML. */
  function renderUser(user) {
    if (user === state.user) return;
    state.user = user;
    const parts = t('session.signed_in_as').split('{user}');
    const nodes = [];
    parts.forEach(function (part, index) {
      if (index > 0) {
        const strong = document.createElement('strong');
        strong.textContent = user;
        nodes.push(strong);
      }
      if (part) nodes.push(document.createTextNode(part));
    });
    el.signedIn.replaceChildren.apply(el.signedIn, nodes);
  }

  function idleLimitText(seconds) {
    if (seconds >= 60) {
      const minutes = Math.round(seconds / 60);
      return tPlural('session.idle_limit_minutes', minutes, { minutes: minutes });
    }
    return tPlural('session.idle_limit_seconds', seconds, { seconds: seconds });
  }

  function renderIdleLimit(seconds) {
    const valid = Number.isFinite(seconds) && seconds > 0;
    if (seconds === state.limit) return;
    state.limit = seconds;
    el.idleLimit.textContent = valid ? idleLimitText(Math.round(seconds)) : '';
    el.idleLimit.hidden = !valid;
  }

  function render(session) {
    if (!session || typeof session.user !== 'string') return;
    renderUser(session.user);
    renderIdleLimit(session.expire_after_sec);
    document.body.setAttribute('data-state', session.state === 'warning' ? 'warning' : 'active');
  }

  function leave(reason) {
    if (state.leaving) return;
    state.leaving = true;
    clearTimeout(state.timer);
    window.location.replace(reason ? '/?ended=' + encodeURIComponent(reason) : '/');
  }

  /* ---- polling (replaced by the event stream in client.js later) ---- */

  async function refresh() {
    let result;
    try {
      result = await api('GET', '/api/session');
    } catch (e) {
      setOffline(true);
      return;
    }
    setOffline(false);
    if (result.response.ok) emit(EVENT_STATE, result.data);
    else if (result.response.status === 401) emit(EVENT_ENDED, { reason: endedReason(result.data) });
    /* anything else (503, ...) is passing: try again next round */
  }

  function scheduleRefresh(delay) {
    clearTimeout(state.timer);
    if (!state.leaving) state.timer = setTimeout(refreshNow, delay);
  }

  async function refreshNow() {
    clearTimeout(state.timer);
    if (state.inFlight || state.leaving) return;
    state.inFlight = true;
    try {
      if (!state.loggingOut) await refresh();
    } finally {
      state.inFlight = false;
    }
    scheduleRefresh(REFRESH_MS);
  }

  /* ---- sign out ---- */

  function setLogoutBusy(busy) {
    state.loggingOut = busy;
    el.logout.disabled = busy;
    el.logout.setAttribute('aria-busy', String(busy));
  }

  function logoutFailed(message) {
    setLogoutBusy(false);
    showAlert(message);
    el.logout.focus();
  }

  async function logout() {
    if (state.loggingOut || state.leaving) return;
    setLogoutBusy(true);
    showAlert('');
    let result;
    try {
      result = await api('POST', '/api/logout', {});
    } catch (e) {
      logoutFailed(t('session.error.logout_network'));
      return;
    }
    const status = result.response.status;
    if (result.response.ok) leave('logout');
    else if (status === 401) emit(EVENT_ENDED, { reason: endedReason(result.data) });
    else logoutFailed(t(status === 503 ? 'session.error.busy' : 'session.error.logout'));
  }

  /* ---- start ---- */

  function init() {
    el.signedIn = document.getElementById('hg-signed-in');
    el.idleLimit = document.getElementById('hg-idle-limit');
    el.logout = document.getElementById('hg-logout');
    el.alert = document.getElementById('hg-alert');
    el.connection = document.getElementById('hg-connection');

    document.addEventListener(EVENT_STATE, function (event) { render(event.detail); });
    document.addEventListener(EVENT_ENDED, function (event) {
      leave(event.detail && typeof event.detail.reason === 'string' ? event.detail.reason : '');
    });
    el.logout.addEventListener('click', logout);
    document.addEventListener('visibilitychange', function () {
      if (document.visibilityState === 'visible') refreshNow();
    });
    /* Back from the browser cache: check again before showing anything stale. */
    window.addEventListener('pageshow', function (event) {
      if (!event.persisted) return;
      state.leaving = false;
      setLogoutBusy(false);
      refreshNow();
    });

    refreshNow();
  }

  init();
})();
