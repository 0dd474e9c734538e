/*
 * hourglass session page: who is signed in, the idle limit, the day's
 * limit (the time left today, or closing time), and "Sign out".
 * Everything that talks to the server (activity, the event stream, the
 * warning dialog, the end of the session) is client.js; this page only
 * renders what window.hourglass tells it. Strings and their language:
 * window.hourglassI18n (i18n.js).
 */
(function () {
  'use strict';

  const el = {};
  let user = null;
  let limit = null;
  /* The day's ends as last heard (seconds, -1: none) and when. */
  let day = null, dayTimer = 0;

  function t(id, vars) {
    return window.hourglassI18n ? window.hourglassI18n.t(id, vars) : id;
  }

  function showAlert(message) {
    el.alert.replaceChildren();
    if (!message) return;
    const p = document.createElement('p');
    p.textContent = message;
    el.alert.append(p);
  }

  /* "Signed in as {user}" with the name in <strong>, built without innerHTML. */
  function renderUser(name, again) {
    if (name === user && !again) return;
    user = name;
    const nodes = [];
    t('session.signed_in_as').split('{user}').forEach(function (part, index) {
      if (index > 0) {
        const strong = document.createElement('strong');
        strong.textContent = name;
        nodes.push(strong);
      }
      if (part) nodes.push(document.createTextNode(part));
    });
    el.signedIn.replaceChildren.apply(el.signedIn, nodes);
  }

  function renderIdleLimit(seconds, again) {
    if (seconds === limit && !again) return;
    limit = seconds;
    const valid = Number.isFinite(seconds) && seconds > 0;
    el.idleLimit.textContent = valid && window.hourglassI18n
      ? t('session.idle_limit', { duration: window.hourglassI18n.duration(seconds) }) : '';
    el.idleLimit.hidden = !valid;
  }

  /* Whichever of the day's ends comes first: the allowance counts down
   * here between states, closing time is a time of day. */
  function renderDayLimit() {
    const i18n = window.hourglassI18n;
    if (!day || !i18n) return;
    const gone = (Date.now() - day.at) / 1000;
    const allowance = day.allowance >= 0 ? Math.max(0, day.allowance - gone) : -1;
    const closes = day.closes >= 0 ? Math.max(0, day.closes - gone) : -1;
    let kind = '', text = '';
    if (allowance >= 0 && (closes < 0 || allowance < closes)) {
      kind = 'allowance';
      text = t('session.allowance_left', { duration: i18n.span(allowance) });
    } else if (closes >= 0) {
      kind = 'closing-time';
      text = t('session.closes_at', { time: i18n.time(new Date(day.at + day.closes * 1000)) });
    }
    if (el.dayLimit.textContent !== text) el.dayLimit.textContent = text;
    el.dayLimit.setAttribute('data-limit', kind);
    el.dayLimit.hidden = !text;
  }

  function setDayLimit(session) {
    const sec = (v) => (Number.isFinite(v) ? v : -1);
    day = { allowance: sec(session.allowance_left_sec), closes: sec(session.closes_in_sec), at: Date.now() };
    clearInterval(dayTimer);
    dayTimer = day.allowance >= 0 || day.closes >= 0 ? setInterval(renderDayLimit, 1000) : 0;
    renderDayLimit();
  }

  function render(session) {
    if (!session || typeof session.user !== 'string') return;
    renderUser(session.user);
    renderIdleLimit(session.expire_after_sec);
    setDayLimit(session);
    document.body.setAttribute('data-state', session.state === 'warning' ? 'warning' : 'active');
  }

  function setBusy(busy) {
    el.logout.disabled = busy;
    el.logout.setAttribute('aria-busy', String(busy));
  }

  function logout() {
    setBusy(true);
    showAlert('');
    window.hourglass.signOut().catch(function (error) {
      const network = error instanceof TypeError || (error && error.name === 'AbortError');
      setBusy(false);
      showAlert(t(network ? 'session.error.logout_network' : 'session.error.logout'));
      el.logout.focus();
    });
  }

  function init() {
    el.signedIn = document.getElementById('hg-signed-in');
    el.idleLimit = document.getElementById('hg-idle-limit');
    el.dayLimit = document.getElementById('hg-day-limit');
    el.logout = document.getElementById('hg-logout');
    el.alert = document.getElementById('hg-alert');
    el.connection = document.getElementById('hg-connection');

    const hg = window.hourglass;
    if (!hg) {
      setBusy(true);
      showAlert(t('session.error.script'));
      return;
    }
    hg.on('state', render);
    hg.on('connection', function (c) {
      el.connection.textContent = c.online ? '' : t('session.offline');
    });
    el.logout.addEventListener('click', logout);
    window.addEventListener('hourglass:language', function () {
      if (user !== null) renderUser(user, true);
      if (limit !== null) renderIdleLimit(limit, true);
      renderDayLimit();
    });
    /* Back from the browser cache: the button may still say "busy". */
    window.addEventListener('pageshow', function (event) {
      if (event.persisted) setBusy(false);
    });
    render(hg.state);
  }

  init();
})();
