/*
 * hourglass page script. Any page hourglassd serves to a signed-in person
 * loads it with <script src="/assets/client.js" defer></script>; it needs
 * nothing else (it fetches /assets/strings.js, /assets/i18n.js and
 * /assets/client.css when the page has not loaded them). No inline script or style: it runs under
 * the strict CSP.
 *
 * - Activity (pointer, keys, wheel, scroll, touch, window focus) is
 *   reported with POST /api/ping {"idle": N}: at once while a warning is
 *   up (where a moving mouse counts and moving the focus does not),
 *   otherwise at most every PING_EVERY_MS, early enough that the server
 *   never warns a person who is busy, and never without new activity.
 * - One GET /api/events stream per browser: the tab holding the Web Lock
 *   (or, without navigator.locks, the tab that won a BroadcastChannel
 *   election) opens it and shares what it hears with the other tabs over
 *   BroadcastChannel. While the stream is down that tab polls
 *   GET /api/session instead. The other tabs make no request of their own
 *   but pings, so they never make the session look closed or open.
 * - On "warning", an accessible modal dialog counts down the server's
 *   expire_in_sec. What it offers follows what the warning is of (the
 *   state's "warning"): "Stay signed in" for idleness; for the absolute
 *   limit "OK" and, while extensions are left and no one is waiting for
 *   the machine, "More time" (POST /api/more-time); for the day's ends
 *   (the allowance used up, closing time) "OK", with words that say which,
 *   and never "More time": it cannot move them. A later lead time of
 *   the limit (warn_level) is a new warning: shown again, and announced.
 *   A state pushed within the same warning (someone waiting, more time
 *   granted elsewhere, a reload) updates the open dialog; a new note is
 *   announced.
 *   On "ended" (or a 401), every tab goes to /?ended=REASON.
 * - After a gap in its timers (sleep), on becoming visible, and on coming
 *   back from the back/forward cache, it asks the server before showing
 *   anything.
 *
 * API for operators' pages (see the README): window.hourglass.state,
 * .on("state"|"ended"|"connection", fn) -> unsubscribe, .signOut(),
 * .activity().
 */
(function () {
  'use strict';

  if (window.hourglass) return;

  const PING_EVERY_MS = 12000; /* activity pings while active, at most */
  const PING_GAP_MS = 1000;    /* never two pings closer than this */
  const PING_LEAD_MS = 1000;   /* report activity this long before the server would warn */
  const POLL_MS = 2000;        /* GET /api/session while the stream is down */
  const TICK_MS = 1000;
  const WAKE_GAP_MS = 8000;    /* a tick this late: the machine slept */
  const ELECT_MS = 250;        /* BroadcastChannel election steps */
  const REQUEST_TIMEOUT_MS = 15000;
  const NO_SESSION_WAIT_MS = 1000; /* a reason may follow a plain "no session" */
  const MOVE_EVERY_MS = 250;   /* pointer movement counts at most this often */
  const ANNOUNCE_AT = [60, 30, 10];
  const NAV_KEYS = ['Tab', 'Shift', 'Enter', ' ', 'Escape', 'Control', 'Alt', 'AltGraph', 'Meta'];

  const PAGE = randomId();
  /* Set by the login page at each sign-in: tabs of an older session of this
   * browser never talk to those of a newer one. */
  const TAG = storageGet('hourglass.login');
  const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('hourglass:' + TAG) : null;
  /* Without a channel to share the stream on, every tab has its own. */
  const LOCKS = !!(channel && navigator.locks && navigator.locks.request);
  const handlers = { state: [], ended: [], connection: [] };

  let state = null;            /* the server's last word: session state JSON */
  let stateAt = 0;             /* Date.now() when it was heard */
  let ended = false;
  let signingOut = false, noSessionTimer = 0;
  let verifying = true;        /* asking the server: show nothing new meanwhile */
  let online = true;
  let lastActivity = 0, reported = 0, lastPing = 0, pingBusy = false, pingTimer = 0;
  let lastMove = '', lastMoveAt = 0, lastTick = Date.now();
  let leader = false, releaseLock = null, lockAbort = null, electTimer = 0;
  let leadSeen = 0, blocked = false, probing = false;
  let es = null, streamFails = 0, reopenTimer = 0, pollTimer = 0, safetyTimer = 0;
  let dlg = null, ui = null, wantOpen = false, returnFocus = null;
  let countTimer = 0, announced = 0;
  /* Warnings as {kind, level} (see warning()): the one the dialog shows,
   * the one answered with "OK", and the one the last answer to "More
   * time" was about ({kind, level, granted} or {..., refused: REASON,
   * final: the server's own refusal}). */
  let shown = null, dismissed = null, reply = null, asking = false;

  /* ---- small things ---- */

  function randomId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  function storageGet(key) {
    try { return localStorage.getItem(key) || ''; } catch (e) { return ''; }
  }

  /* Text, durations and times in the pages' language (i18n.js). */
  function i18n() {
    return window.hourglassI18n || null;
  }

  function t(key, vars) {
    return i18n() ? i18n().t(key, vars) : key;
  }

  function emit(name, arg) {
    handlers[name].slice().forEach((fn) => {
      try { fn(arg); } catch (e) { setTimeout(() => { throw e; }); }
    });
  }

  function post(message) {
    if (channel) channel.postMessage(message);
  }

  function setOnline(value) {
    if (value === online) return;
    online = value;
    emit('connection', { online: value });
  }

  /* ---- server ---- */

  async function api(method, path, body) {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), REQUEST_TIMEOUT_MS);
    const init = { method: method, credentials: 'same-origin', cache: 'no-store', signal: abort.signal };
    if (body !== undefined) {
      init.headers = { 'Content-Type': 'application/json' };
      init.body = JSON.stringify(body);
    }
    try {
      const response = await fetch(path, init);
      let data = null;
      try { data = await response.json(); } catch (e) { /* judged by status */ }
      setOnline(true);
      return { status: response.status, data: data };
    } catch (e) {
      setOnline(false);
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /* 200: the state; 401: the end, and why; anything else is passing. */
  function answer(r) {
    if (r.status === 200) apply(r.data, Date.now(), true);
    else if (r.status === 401) {
      if (r.data && r.data.error === 'session-ended') end(r.data.reason);
      else noSession();
    }
    return r;
  }

  /* A 401 without a reason: the cookie is gone. A sign-out clears it, in
   * this tab (whose own answer says "logout" at once) or in another (whose
   * news, with the reason, is on its way): wait for the reason a little,
   * so a request racing a sign-out does not lose "You have signed out".
   * A page that never had a session leaves at once. */
  function noSession() {
    if (ended || signingOut || noSessionTimer) return;
    if (!state) end('no-session');
    else noSessionTimer = setTimeout(() => end('no-session'), NO_SESSION_WAIT_MS);
  }

  function check() {
    return api('GET', '/api/session').then(answer, () => null);
  }

  function apply(s, at, share) {
    if (ended || !s || (s.state !== 'active' && s.state !== 'warning')) return;
    if (typeof at !== 'number' || at < stateAt) return;   /* older news */
    state = Object.assign({}, s);
    stateAt = at;
    if (share) post({ k: 'state', s: s, at: at });
    if (s.state === 'active') dismissed = reply = null;
    if (refusalGone(s)) reply = null;
    if (pingTimer) schedulePing();
    armSafety();
    render();
    emit('state', Object.assign({}, state));
  }

  /* A refusal of the server's whose reason the server now says is gone:
   * no one waits any more, or a reload gave more extensions. */
  function refusalGone(s) {
    return !!reply && !!reply.final &&
      ((reply.refused === 'waiting' && !s.waiting) || (reply.refused === 'used-up' && s.extensions_left > 0));
  }

  /* The standing warning: what it is of ("idle": activity answers it;
   * "limit": the absolute limit, only more time moves it; "allowance",
   * "closing-time": the day's ends, nothing moves them; "locked") and
   * how many of the limit's lead times have passed. null: none. */
  function warning() {
    if (!state || state.state !== 'warning') return null;
    return { kind: state.warning || 'idle', level: Number(state.warn_level) || 0 };
  }

  function idleWarning() {
    const w = warning();
    return !!w && w.kind === 'idle';
  }

  /* w is a new warning after old: of another kind, or a later lead time. */
  function newer(w, old) {
    return !old || w.kind !== old.kind || w.level > old.level;
  }

  function secondsLeft() {
    return state ? Math.max(0, Math.ceil((stateAt + state.expire_in_sec * 1000 - Date.now()) / 1000)) : 0;
  }

  function end(reason, after, fromPeer) {
    if (ended) return;
    ended = true;
    reason = typeof reason === 'string' && /^[a-z-]{1,32}$/.test(reason) ? reason : 'unknown';
    if (after === undefined && state) after = state.expire_after_sec;
    if (!fromPeer) post({ k: 'ended', r: reason, e: after });
    closeStream();
    [pingTimer, safetyTimer, countTimer, noSessionTimer].forEach(clearTimeout);
    clearInterval(electTimer);
    if (releaseLock) releaseLock();
    closeDialog();
    emit('ended', { reason: reason });
    let url = '/';
    if (reason !== 'no-session') {
      url += '?ended=' + reason;
      if (reason === 'idle-timeout' && after > 0) url += '&after=' + Math.round(after);
    }
    location.replace(url);
  }

  async function signOut() {
    if (ended) return;
    let r;
    signingOut = true;
    try {
      r = await api('POST', '/api/logout', {});
    } finally {
      signingOut = false;
    }
    if (r.status === 200) end('logout');
    else if (r.status === 401) answer(r);
    else throw new Error('sign-out failed: HTTP ' + r.status);
  }

  /* ---- activity ---- */

  function schedulePing() {
    clearTimeout(pingTimer);
    pingTimer = 0;
    if (ended || pingBusy || lastActivity <= reported) return;
    const now = Date.now();
    let due = lastPing + PING_EVERY_MS;
    if (idleWarning()) due = now;
    else if (state && state.state === 'active' && state.warn_in_sec >= 0) {
      /* warn_in_sec is rounded up: the server may warn a second sooner. */
      due = Math.min(due, stateAt + (state.warn_in_sec - 1) * 1000 - PING_LEAD_MS);
    }
    due = Math.max(due, lastPing + PING_GAP_MS, now);
    pingTimer = setTimeout(ping, due - now);
  }

  async function ping() {
    clearTimeout(pingTimer);
    pingTimer = 0;
    if (ended || pingBusy) return;
    const now = Date.now();
    const before = reported;
    reported = lastActivity;
    lastPing = now;
    pingBusy = true;
    try {
      answer(await api('POST', '/api/ping', { idle: Math.max(0, Math.floor((now - lastActivity) / 1000)) }));
    } catch (e) {
      reported = before;
    }
    pingBusy = false;
    if (!ended) {
      schedulePing();
      render();
    }
  }

  function activity() {
    lastActivity = Date.now();
    if (!pingTimer && !pingBusy) schedulePing();
  }

  /* While the dialog is up, a mouse moving is activity (the person is
   * there), and so is any key or a touch or click outside its buttons; but
   * the buttons themselves decide, and moving between them with the
   * keyboard (Tab, Shift+Tab) is not activity: a keyboard user must be
   * able to reach "Sign out". A finger or a pen on its way to a button, or
   * a mouse held down on one, is not "moving the mouse". */
  function countsInDialog(e) {
    if (e.type === 'keydown') return NAV_KEYS.indexOf(e.key) < 0;
    if (e.type === 'pointerdown' || e.type === 'touchstart') {
      return !(e.target instanceof Element && e.target.closest('button') && dlg.contains(e.target));
    }
    if (e.type === 'pointermove' || e.type === 'mousemove') {
      return (e.pointerType || 'mouse') === 'mouse' && !e.buttons;
    }
    return false;
  }

  /* A real movement, at most every MOVE_EVERY_MS: the pointer is somewhere
   * new on the screen. Chromium also sends moves when the layout changes
   * under a still pointer (a page loading under it, the dialog opening):
   * those are at the last known place, and the first one a page sees has
   * no place to compare with, so it only sets it. */
  function moved(e) {
    const at = e.screenX + ',' + e.screenY;
    const known = lastMove;
    lastMove = at;
    if (!known || at === known) return false;
    const now = Date.now();
    if (now - lastMoveAt < MOVE_EVERY_MS) return false;
    lastMoveAt = now;
    return true;
  }

  function onInput(e) {
    if (!e.isTrusted || ended) return;
    if (e.type === 'focus' && e.target !== window) return;
    if ((e.type === 'pointermove' || e.type === 'mousemove') && !moved(e)) return;
    if (dlg && dlg.open && !countsInDialog(e)) return;
    activity();
  }

  /* ---- one event stream per browser ---- */

  function openStream() {
    clearTimeout(reopenTimer);
    reopenTimer = 0;
    if (!leader || ended || es) return;
    if (typeof EventSource !== 'function') {
      startPolling();
      return;
    }
    const source = es = new EventSource('/api/events?page=' + PAGE);
    const onState = (e) => {
      try { apply(JSON.parse(e.data), Date.now(), true); } catch (err) { /* not JSON */ }
    };
    source.addEventListener('active', onState);
    source.addEventListener('warning', onState);
    source.addEventListener('ended', (e) => {
      let data = {};
      try { data = JSON.parse(e.data); } catch (err) { /* no reason */ }
      end(data.reason);
    });
    source.onopen = () => {
      streamFails = 0;
      stopPolling();
      setOnline(true);
    };
    source.onerror = () => {
      if (es !== source) return;
      if (source.readyState === EventSource.CLOSED) {
        es = null;
        reopenTimer = setTimeout(openStream, Math.min(30000, 2000 * Math.pow(2, streamFails++)));
      }
      startPolling();
      check();
    };
  }

  function closeStream() {
    clearTimeout(reopenTimer);
    stopPolling();
    if (es) es.close();
    es = null;
  }

  function startPolling() {
    if (!pollTimer && leader && !ended) pollTimer = setInterval(check, POLL_MS);
  }

  function stopPolling() {
    clearInterval(pollTimer);
    pollTimer = 0;
  }

  /* The leader asks again when the server should have changed its mind:
   * a missed event (or a ping answer overtaking one) cannot stick. */
  function armSafety() {
    clearTimeout(safetyTimer);
    safetyTimer = 0;
    if (!leader || ended || !state) return;
    const sec = state.state === 'warning' ? state.expire_in_sec : state.warn_in_sec;
    if (sec >= 0) safetyTimer = setTimeout(check, stateAt + sec * 1000 + 1500 - Date.now());
  }

  function lead() {
    if (leader || ended) return;
    leader = true;
    openStream();
    armSafety();
  }

  function resign() {
    if (!leader) return;
    leader = false;
    closeStream();
    clearTimeout(safetyTimer);
    if (releaseLock) releaseLock();
    releaseLock = null;
    post({ k: 'resign' });
  }

  function elect() {
    if (ended || leader) return;
    if (LOCKS) {
      if (lockAbort) return;   /* already waiting */
      const abort = lockAbort = new AbortController();
      navigator.locks.request('hourglass-events:' + TAG, { signal: abort.signal }, () => {
        if (abort.signal.aborted || ended) return null;
        return new Promise((resolve) => {
          releaseLock = () => { lockAbort = null; resolve(); };
          lead();
        });
      }).catch(() => { if (lockAbort === abort) lockAbort = null; });
    } else if (channel) {
      clearInterval(electTimer);
      electTimer = setInterval(probe, TICK_MS);
      probe();
    } else {
      lead();
    }
  }

  /* Without Web Locks: ask who leads; with no answer, claim; the lowest
   * page id among simultaneous claims wins. The leader answers at once. */
  function probe() {
    if (leader || ended || probing) return;
    probing = true;
    const seen = leadSeen;
    post({ k: 'who' });
    setTimeout(() => {
      if (leadSeen !== seen || leader || ended) {
        probing = false;
        return;
      }
      blocked = false;
      post({ k: 'claim', id: PAGE });
      setTimeout(() => {
        probing = false;
        if (!blocked && leadSeen === seen && !leader && !ended) {
          lead();
          post({ k: 'lead', id: PAGE });
        }
      }, ELECT_MS);
    }, ELECT_MS);
  }

  function onMessage(e) {
    const m = e.data || {};
    switch (m.k) {
      case 'state': apply(m.s, m.at, false); break;
      case 'ended':
        /* That tab waited for a reason already; this one's sign-out has its own. */
        if (!(m.r === 'no-session' && signingOut)) end(m.r, m.e, true);
        break;
      case 'who':
        if (leader && !LOCKS) post({ k: 'lead', id: PAGE });
        break;
      case 'claim':
        if (leader && !LOCKS) post({ k: 'lead', id: PAGE });
        else if (typeof m.id === 'string' && m.id < PAGE) blocked = true;
        break;
      case 'lead':
        leadSeen++;
        if (leader && !LOCKS) {
          if (m.id < PAGE) resign();   /* two leaders: the lower id keeps it */
          else post({ k: 'lead', id: PAGE });
        }
        break;
      case 'resign':
        if (!leader && !LOCKS) setTimeout(probe, 0);
        break;
    }
  }

  /* ---- sleep, tab switches, back/forward cache ---- */

  function verify(hide) {
    if (ended) return;
    verifying = true;
    if (hide) closeDialog();
    if (leader && !es) openStream();
    check().then(() => {
      verifying = false;
      render();
    });
  }

  function onTick() {
    const now = Date.now();
    if (now - lastTick > WAKE_GAP_MS) verify(true);
    lastTick = now;
  }

  function onPageHide() {
    if (es && !ended && navigator.sendBeacon) {
      try {
        navigator.sendBeacon('/api/close', new Blob([JSON.stringify({ page: PAGE })], { type: 'application/json' }));
      } catch (e) { /* the hang-up tells the server too */ }
    }
    resign();
    if (lockAbort) lockAbort.abort();
    lockAbort = null;
    clearInterval(electTimer);
  }

  function onPageShow(e) {
    if (!e.persisted || ended) return;
    lastTick = Date.now();
    elect();
    verify(true);
  }

  /* ---- the warning dialog ---- */

  function build() {
    dlg = document.createElement('dialog');
    dlg.className = 'hg-dialog';
    dlg.setAttribute('role', 'alertdialog');
    dlg.setAttribute('aria-modal', 'true');
    dlg.setAttribute('aria-labelledby', 'hg-dialog-title');
    dlg.setAttribute('aria-describedby', 'hg-dialog-text hg-dialog-note');
    dlg.innerHTML =
      '<h2 class="hg-dialog__title" id="hg-dialog-title"></h2>' +
      '<p class="hg-dialog__text" id="hg-dialog-text"></p>' +
      '<p class="hg-dialog__note" id="hg-dialog-note"></p>' +
      '<p class="hg-dialog__time" role="timer"><span></span> <strong class="hg-dialog__clock"></strong></p>' +
      '<p class="hg-dialog__at"></p>' +
      '<p class="hg-dialog__live" aria-live="polite" aria-atomic="true"></p>' +
      '<div class="hg-dialog__actions">' +
      '<button type="button" class="hg-dialog__button" hidden></button>' +
      '<button type="button" class="hg-dialog__button hg-dialog__button--primary"></button>' +
      '<button type="button" class="hg-dialog__button"></button></div>';
    const q = (sel) => dlg.querySelector(sel);
    const all = dlg.querySelectorAll('button');
    ui = {
      title: q('.hg-dialog__title'), text: q('.hg-dialog__text'), note: q('.hg-dialog__note'),
      label: q('.hg-dialog__time span'), clock: q('.hg-dialog__clock'), at: q('.hg-dialog__at'),
      live: q('.hg-dialog__live'), more: all[0], stay: all[1], out: all[2]
    };
    ui.more.addEventListener('click', moreTime);
    ui.stay.addEventListener('click', stay);
    ui.out.addEventListener('click', () => {
      ui.out.disabled = true;
      signOut().catch(() => { ui.out.disabled = false; ui.out.focus(); });
    });
    dlg.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        stay();
      } else if (e.key === 'Tab') {
        const list = buttons().filter((b) => !b.disabled);
        const i = list.indexOf(document.activeElement);
        e.preventDefault();
        if (list.length) list[(i + (e.shiftKey ? -1 : 1) + list.length) % list.length].focus();
      }
    });
    dlg.addEventListener('cancel', (e) => e.preventDefault());
    /* Closed by the browser (Escape, whatever we said): that means "stay". */
    dlg.addEventListener('close', () => {
      if (wantOpen) {
        wantOpen = false;
        stay();
      }
    });
    document.body.append(dlg);
  }

  function clockText(sec) {
    return i18n() ? i18n().clock(sec) : Math.floor(sec / 60) + ':' + String(sec % 60).padStart(2, '0');
  }

  function durationText(sec) {
    return i18n() ? i18n().duration(sec) : sec + ' s';
  }

  function leftText(sec) {
    return t('warning.left', { duration: durationText(sec) });
  }

  function announce(text) {
    ui.live.textContent = text;
  }

  /* The dialog's buttons that are there to press. */
  function buttons() {
    return [ui.more, ui.stay, ui.out].filter((b) => !b.hidden);
  }

  function countdown() {
    if (!ui) return;
    const sec = secondsLeft();
    ui.clock.textContent = clockText(sec);
    ui.clock.setAttribute('data-seconds', String(sec));
    /* Polite, and only at a few marks, not every second. */
    const mark = ANNOUNCE_AT.filter((m) => sec <= m && m < announced).pop();
    if (mark !== undefined && sec > 0) {
      announced = mark;
      announce(leftText(sec));
    }
  }

  /* The session's first fixed end is one of the day's (the allowance,
   * closing time): more time cannot move it (the server's "fixed-end"). */
  function fixedEnd() {
    return state.limit_reason === 'allowance' || state.limit_reason === 'closing-time';
  }

  /* "More time" is offered in a warning of the absolute limit while
   * extensions are left, no one is waiting for the machine and the day
   * does not end the session first (else the dialog says why up front: no
   * button that can only fail), and not again in the warning the server
   * refused it in. */
  function offersMoreTime(w) {
    return w.kind === 'limit' && state.extensions_left > 0 && !state.waiting && !fixedEnd() &&
      !(reply && reply.final && !newer(w, reply));
  }

  /* Why more time was refused, in words: a reason of POST
   * /api/more-time (daemon/hg-more-time.c), "network", or one this page
   * has no words for. */
  function refusedText(reason) {
    const key = 'warning.refused.' + reason;
    const text = t(key);
    return text === key ? t('warning.refused.unknown') : text;
  }

  function noteText(w, offered) {
    const said = reply && !newer(w, reply) ? reply : null;
    const parts = [];
    if (said && said.refused) return refusedText(said.refused);
    if (w.kind === 'limit' && fixedEnd() && state.extensions_left > 0) return refusedText('fixed-end');
    if (w.kind === 'limit' && state.waiting && state.extensions_left > 0) return t('warning.refused.waiting');
    if (said && said.granted) parts.push(t('warning.granted', { duration: durationText(state.extend_by_sec) }));
    if (offered) {
      const count = i18n() ? i18n().number(state.extensions_left) : state.extensions_left;
      parts.push(t('warning.extensions_left', { count: count }));
    }
    return parts.join(' ');
  }

  function texts() {
    const w = warning() || { kind: 'idle', level: 0 };
    const idle = w.kind === 'idle';
    const offered = offersMoreTime(w);
    /* An operator's page may be in another language than the dialog. */
    if (i18n()) {
      dlg.lang = i18n().lang;
      dlg.dir = i18n().dir;
    }
    if (idle) {
      ui.title.textContent = t('warning.title');
      ui.text.textContent = t('warning.text');
    } else if (w.kind === 'allowance') {
      ui.title.textContent = t('warning.title_allowance');
      ui.text.textContent = t('warning.text_allowance');
    } else if (w.kind === 'closing-time') {
      ui.title.textContent = t('warning.title_closing');
      ui.text.textContent = t('warning.text_closing');
    } else {
      ui.title.textContent = t('warning.title_limit');
      ui.text.textContent = offered ? t('warning.text_more_time', { duration: durationText(state.extend_by_sec) })
        : t('warning.text_max_age');
    }
    ui.note.textContent = noteText(w, offered);
    ui.label.textContent = t('warning.time_left');
    ui.more.textContent = t('warning.more_time');
    ui.stay.textContent = t(idle ? 'warning.stay' : 'warning.ok');
    ui.out.textContent = t('warning.sign_out');
    /* A button going away must not take the focus with it. */
    if (!offered && document.activeElement === ui.more) ui.stay.focus();
    ui.more.hidden = !offered;
    ui.more.classList.toggle('hg-dialog__button--primary', offered);
    ui.stay.classList.toggle('hg-dialog__button--primary', !offered);
    const at = state ? new Date(stateAt + state.expire_in_sec * 1000) : null;
    ui.at.textContent = at && i18n() ? t('warning.ends_at', { time: i18n().time(at) }) : '';
    dlg.setAttribute('data-warning', w.kind);
  }

  /* The time left, once the dialog itself has been read (on opening); for
   * a new warning in a dialog already open, its title first. Then the
   * marks. */
  function announceWarning(opening) {
    const sec = secondsLeft();
    announced = ANNOUNCE_AT.filter((m) => sec <= m).pop() || Infinity;
    announce('');
    setTimeout(() => {
      if (!dlg.open || secondsLeft() <= 0) return;
      const title = ui.title.textContent;
      const left = leftText(secondsLeft());
      announce(opening ? left : title + (/[.?!…]$/.test(title) ? ' ' : '. ') + left);
    }, opening ? 700 : 100);
  }

  function openDialog(w) {
    if (!dlg) build();
    const fresh = newer(w, shown);
    const note = ui.note.textContent, sec = Number(ui.clock.getAttribute('data-seconds'));
    shown = w;
    texts();
    if (dlg.open && !fresh && secondsLeft() > sec) {
      /* More time from elsewhere: the marks count down from the new time. */
      announced = ANNOUNCE_AT.filter((m) => secondsLeft() <= m).pop() || Infinity;
    }
    countdown();
    if (dlg.open) {
      if (fresh) announceWarning(false);
      /* The same warning with other news (someone waiting, more time from
       * elsewhere): said. The answer to this page's own request is said
       * by moreTime(). */
      else if (!asking && ui.note.textContent && ui.note.textContent !== note) announce(ui.note.textContent);
      return;
    }
    wantOpen = true;
    ui.stay.disabled = ui.out.disabled = false;
    returnFocus = document.activeElement;
    dlg.showModal();
    buttons()[0].focus();
    clearInterval(countTimer);
    countTimer = setInterval(countdown, 250);
    announceWarning(true);
  }

  function closeDialog() {
    wantOpen = false;
    shown = null;
    clearInterval(countTimer);
    countTimer = 0;
    if (!dlg || !dlg.open) return;
    dlg.close();
    if (returnFocus && returnFocus.isConnected && returnFocus !== document.body) {
      returnFocus.focus({ preventScroll: true });
    }
    /* Nothing had the focus before (or it cannot take it back): Chromium
     * leaves it on the hidden button until a later layout, where a key
     * would still press it and a screen reader would still read it. */
    if (dlg.contains(document.activeElement)) document.activeElement.blur();
    returnFocus = null;
  }

  /* "Stay signed in" is activity; "OK" (the limit) closes the dialog
   * until the next warning, and is activity too. */
  function stay() {
    const w = warning();
    activity();
    if (w && w.kind !== 'idle') {
      dismissed = w;
      closeDialog();
    }
    if (!pingBusy) ping();
  }

  /* The server's answer updates the dialog: the new limit, or why not
   * (then the state is asked for again: someone may be waiting now, or
   * another tab took the last extension). A refusal of the server's
   * (409) takes the button away; a failure to reach it does not. The
   * button stays focusable while the request runs (aria-disabled, not
   * disabled). */
  async function moreTime() {
    const w = warning();
    if (asking || ended || !w) return;
    asking = true;
    ui.more.setAttribute('aria-disabled', 'true');
    let r = null;
    try {
      r = await api('POST', '/api/more-time', {});
    } catch (e) { /* said below */ }
    ui.more.removeAttribute('aria-disabled');
    if (r && r.status === 200) {
      dismissed = null;
      answer(r);
      const now = warning();
      reply = now && Object.assign({ granted: true }, now);
    } else {
      if (r && r.status === 401) answer(r);
      if (ended) {
        asking = false;
        return;
      }
      const refusal = !!r && r.status === 409;
      const reason = refusal && r.data ? String(r.data.reason) : r ? 'unknown' : 'network';
      reply = Object.assign({ refused: /^[a-z-]{1,32}$/.test(reason) ? reason : 'unknown', final: refusal }, w);
      if (r) check();
    }
    render();
    asking = false;
    if (dlg.open && ui.note.textContent) announce(ui.note.textContent);
  }

  function render() {
    if (ended || !state) return;
    const w = warning();
    if (!w) {
      closeDialog();
      return;
    }
    if (verifying) return;
    if (w.kind === 'idle' && lastActivity > reported) {
      /* The person was busy just before: tell the server first. */
      if (pingBusy) return;
      if (Date.now() - lastPing >= PING_GAP_MS) {
        ping();
        return;
      }
    }
    if (dismissed && !newer(w, dismissed)) closeDialog();
    else openDialog(w);
  }

  /* ---- start ---- */

  /* In this order: i18n.js reads the tables when it runs. */
  function loadAssets() {
    ['/assets/strings.js', '/assets/i18n.js'].forEach((src) => {
      if (src === '/assets/strings.js' && window.HG_STRINGS) return;
      if (src === '/assets/i18n.js' && window.hourglassI18n) return;
      if (document.querySelector('script[src="' + src + '"]')) return;
      const s = document.createElement('script');
      s.src = src;
      s.async = false;
      document.head.append(s);
    });
    if (!document.querySelector('link[href="/assets/client.css"]')) {
      const l = document.createElement('link');
      l.rel = 'stylesheet';
      l.href = '/assets/client.css';
      document.head.append(l);
    }
  }

  window.hourglass = Object.freeze({
    get state() { return state ? Object.assign({}, state) : null; },
    on(name, fn) {
      const list = handlers[name];
      if (!list || typeof fn !== 'function') throw new TypeError('hourglass.on: unknown event or not a function');
      list.push(fn);
      return () => {
        const i = list.indexOf(fn);
        if (i >= 0) list.splice(i, 1);
      };
    },
    signOut: signOut,
    activity: activity
  });

  loadAssets();
  if (channel) channel.onmessage = onMessage;
  const MOVE = typeof PointerEvent === 'function' ? 'pointermove' : 'mousemove';
  ['pointerdown', MOVE, 'keydown', 'wheel', 'touchstart'].forEach((type) => {
    window.addEventListener(type, onInput, { capture: true, passive: true });
  });
  document.addEventListener('scroll', onInput, { capture: true, passive: true });
  window.addEventListener('focus', onInput);
  window.addEventListener('pagehide', onPageHide);
  window.addEventListener('pageshow', onPageShow);
  window.addEventListener('hourglass:language', () => {
    if (dlg && dlg.open) {
      texts();
      countdown();
    }
  });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') verify(false);
  });
  setInterval(onTick, TICK_MS);
  verify(false);
  elect();
})();
