/*
 * hourglass login page: the PAM sign-in flow against POST /api/login.
 *
 * Step one asks for user name and password; every further PAM prompt (a
 * one-time code, a new password when the old one has expired) is shown as
 * its own step until the server answers "authenticated" or "failed".
 * Strings and the language come from window.hourglassI18n (i18n.js, with
 * the tables of strings.js); the language switch is built here.
 */
(function () {
  'use strict';

  const I18N = window.hourglassI18n;
  const ENDED_REASONS = ['idle-timeout', 'max-age', 'browser-closed', 'terminated',
    'replaced', 'logout', 'shutdown', 'allowance', 'closing-time'];
  const REQUEST_TIMEOUT_MS = 90000;     /* PAM may be slow; the server kills a hung helper sooner */
  const DEFAULT_RETRY_SEC = 5;          /* 429 without a usable Retry-After */
  const MAX_RETRY_SEC = 86400;
  const CODE_PROMPT = /\b(code|otp|token|passcode|one[- ]?time|verification)\b/i;

  const el = {};
  const state = {
    step: 'credentials',   /* or 'prompt' */
    conversation: null,
    busy: false,
    waitUntil: 0,          /* Date.now() value until which 429 blocks submitting */
    waitTimer: 0,
    alert: null,           /* what the alert says: {key, vars} */
    notice: null           /* the ended notice: {reason, after} */
  };

  /* ---- strings ---- */

  function t(id, vars) {
    return I18N ? I18N.t(id, vars) : id;
  }

  function duration(sec, width) {
    return I18N ? I18N.duration(sec, width) : sec + ' s';
  }

  /* ---- messages ---- */

  /* message: {key, vars} or {text: function} (re-rendered when the
   * language changes), or nothing. */
  function showAlert(message) {
    state.alert = message || null;
    /* A fresh node each time, so a repeated message is announced again. */
    el.alert.replaceChildren();
    if (!message) return;
    const p = document.createElement('p');
    p.textContent = message.text ? message.text() : t(message.key, message.vars);
    el.alert.append(p);
  }

  function msg(key, vars) {
    return { key: key, vars: vars };
  }

  function hideNotice() {
    state.notice = null;
    el.notice.hidden = true;
    el.notice.textContent = '';
  }

  /* "?ended=idle-timeout&after=600": client.js says why the last session
   * ended and, for an idle timeout, after how long. */
  function endedText(reason, after) {
    if (!ENDED_REASONS.includes(reason)) return t('ended.unknown');
    const seconds = /^\d{1,7}$/.test(after || '') ? parseInt(after, 10) : 0;
    if (reason !== 'idle-timeout' || seconds <= 0) return t('ended.' + reason);
    return t('ended.idle-timeout.after', { duration: duration(seconds) });
  }

  function renderNotice() {
    if (!state.notice) return;
    el.notice.textContent = endedText(state.notice.reason, state.notice.after);
    el.notice.hidden = false;
  }

  function showEndedNotice() {
    const query = new URLSearchParams(window.location.search);
    const reason = query.get('ended');
    if (reason === null) return;
    state.notice = { reason: reason, after: query.get('after') };
    renderNotice();
    try {
      window.history.replaceState(window.history.state, '', window.location.pathname + window.location.hash);
    } catch (e) { /* keeping the query is harmless */ }
  }

  /* ---- form state ---- */

  function fields() {
    const step = state.step === 'prompt' ? el.stepPrompt : el.stepCredentials;
    return Array.from(step.querySelectorAll('input'));
  }

  function focusFirstField(preferEmpty) {
    const list = fields();
    const target = (preferEmpty && list.find(function (input) { return !input.value; })) || list[0] || el.submit;
    if (!target.disabled) target.focus();
  }

  function waiting() {
    return state.waitUntil > Date.now();
  }

  function updateSubmit() {
    const left = Math.ceil((state.waitUntil - Date.now()) / 1000);
    if (left > 0) {
      el.submitLabel.textContent = t('login.wait_button', { duration: duration(left, 'short') });
    } else {
      el.submitLabel.textContent = t(state.step === 'prompt' ? 'login.continue' : 'login.submit');
    }
    el.submit.disabled = state.busy || left > 0;
  }

  function setBusy(busy) {
    state.busy = busy;
    el.submit.setAttribute('aria-busy', String(busy));
    el.restart.disabled = busy;
    el.form.querySelectorAll('input').forEach(function (input) { input.readOnly = busy; });
    updateSubmit();
  }

  function tickWait() {
    if (waiting()) {
      updateSubmit();
      return;
    }
    clearInterval(state.waitTimer);
    state.waitTimer = 0;
    state.waitUntil = 0;
    showAlert(null);
    updateSubmit();
  }

  function startWait(seconds) {
    state.waitUntil = Date.now() + seconds * 1000;
    clearInterval(state.waitTimer);
    state.waitTimer = setInterval(tickWait, 250);
    updateSubmit();
  }

  function clearPrompts() {
    el.prompts.replaceChildren();
    el.messages.replaceChildren();
    el.messages.hidden = true;
  }

  /* Back to step one; keeps the user name, never the password. message:
   * as for showAlert(). */
  function showCredentials(message) {
    state.step = 'credentials';
    state.conversation = null;
    clearPrompts();
    el.password.value = '';
    el.stepPrompt.hidden = true;
    el.stepCredentials.hidden = false;
    el.restart.hidden = true;
    el.lead.textContent = t('login.lead');
    updateSubmit();
    showAlert(message);
    focusFirstField(true);
  }

  /* ---- further PAM steps ---- */

  function promptLabel(text) {
    const clean = typeof text === 'string' ? text.replace(/[\s:]+$/, '').trim() : '';
    return clean || t('login.prompt_fallback');
  }

  function makePromptField(prompt, index, describedBy) {
    const id = 'hg-answer-' + index;
    const text = prompt && typeof prompt.text === 'string' ? prompt.text : '';
    const wrap = document.createElement('div');
    const label = document.createElement('label');
    const input = document.createElement('input');

    wrap.className = 'hg-field';
    label.htmlFor = id;
    label.textContent = promptLabel(text);
    input.id = id;
    input.name = 'answer' + index;
    input.className = 'hg-input';
    input.type = prompt && prompt.echo === true ? 'text' : 'password';
    input.setAttribute('autocomplete', CODE_PROMPT.test(text) ? 'one-time-code' : 'off');
    input.setAttribute('autocapitalize', 'none');
    input.setAttribute('autocorrect', 'off');
    input.spellcheck = false;
    if (describedBy) input.setAttribute('aria-describedby', describedBy);
    wrap.append(label, input);
    return wrap;
  }

  function renderMessages(messages) {
    const list = Array.isArray(messages) ? messages : [];
    list.forEach(function (message) {
      if (!message || typeof message.text !== 'string' || !message.text) return;
      const p = document.createElement('p');
      p.className = 'hg-message hg-message--' + (message.kind === 'error' ? 'error' : 'info');
      p.textContent = message.text;
      el.messages.append(p);
    });
    el.messages.hidden = !el.messages.hasChildNodes();
  }

  function showPrompt(data) {
    state.step = 'prompt';
    state.conversation = data.conversation;
    clearPrompts();
    renderMessages(data.messages);
    const describedBy = el.messages.hidden ? '' : el.messages.id;
    data.prompts.forEach(function (prompt, index) {
      el.prompts.append(makePromptField(prompt, index, index === 0 ? describedBy : ''));
    });
    el.password.value = '';
    el.stepCredentials.hidden = true;
    el.stepPrompt.hidden = false;
    el.restart.hidden = false;
    el.lead.textContent = t('login.lead_prompt');
    updateSubmit();
    showAlert(null);
    focusFirstField(false);
  }

  /* ---- request bodies (fields are emptied as soon as the body is built) ---- */

  function credentialsBody() {
    const user = el.user.value.trim();
    if (!user) {
      showAlert(msg('login.need_user'));
      el.user.focus();
      return null;
    }
    if (!el.password.value) {
      showAlert(msg('login.need_password'));
      el.password.focus();
      return null;
    }
    const body = JSON.stringify({ user: user, password: el.password.value });
    el.password.value = '';
    return body;
  }

  function answersBody() {
    const inputs = Array.from(el.prompts.querySelectorAll('input'));
    const body = JSON.stringify({
      conversation: state.conversation,
      answers: inputs.map(function (input) { return input.value; })
    });
    inputs.forEach(function (input) { input.value = ''; });
    return body;
  }

  /* ---- talking to the server ---- */

  function postLogin(body) {
    const controller = new AbortController();
    const timer = setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS);
    return fetch('/api/login', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      cache: 'no-store',
      body: body,
      signal: controller.signal
    }).then(async function (response) {
      let data = null;
      try { data = await response.json(); } catch (e) { /* not JSON: judged by status */ }
      return { response: response, data: data };
    }).finally(function () { clearTimeout(timer); });
  }

  /* A fresh mark per sign-in: client.js keys its tab-to-tab channel on it,
   * so pages of an older session never talk to those of this one. */
  function markSignIn() {
    try {
      const bytes = new Uint8Array(8);
      crypto.getRandomValues(bytes);
      localStorage.setItem('hourglass.login', Array.from(bytes, function (b) {
        return b.toString(16).padStart(2, '0');
      }).join(''));
    } catch (e) { /* no storage: every session shares one channel */ }
  }

  function parseRetryAfter(value) {
    const text = (value || '').trim();
    let seconds = NaN;
    if (/^\d+$/.test(text)) seconds = parseInt(text, 10);
    else if (text) seconds = Math.ceil((Date.parse(text) - Date.now()) / 1000);
    if (!Number.isFinite(seconds) || seconds < 1) seconds = DEFAULT_RETRY_SEC;
    return Math.min(seconds, MAX_RETRY_SEC);
  }

  function onAccepted(data) {
    if (data && data.state === 'authenticated') {
      setBusy(true);   /* stay busy until the session page replaces this one */
      markSignIn();
      window.location.replace('/');
      return;
    }
    if (data && data.state === 'prompt' && typeof data.conversation === 'string' &&
        Array.isArray(data.prompts)) {
      showPrompt(data);
      return;
    }
    onError(msg('login.error.generic'), true);
  }

  /* Every failure looks alike: the server's "message" is one fixed
   * English sentence for API clients; the page says it in its language. */
  function onFailed() {
    showCredentials(msg('login.failed'));
  }

  function onTooMany(retryAfter) {
    const seconds = parseRetryAfter(retryAfter);
    startWait(seconds);
    showAlert({ key: 'login.error.too_many', vars: { duration: duration(seconds) } });
    focusFirstField(true);
  }

  /* 403 {"error": "closed", "opens_at"} or {"error": "allowance-used",
   * "renews_at"}: why, and when that changes (unix seconds, or null when
   * not in sight: then only why). The day is named from where this
   * browser is: today, tomorrow, else the weekday (and the date, more
   * than six days away). */
  function refusalText(closed, at) {
    const first = t(closed ? 'login.refused.closed' : 'login.refused.allowance');
    if (!I18N || typeof at !== 'number' || !Number.isFinite(at)) return first;
    const date = new Date(at * 1000);
    const days = I18N.daysFromToday(date);
    const vars = { time: I18N.time(date), day: I18N.day(date, days > 6) };
    let then;
    if (days <= 0) then = closed ? t('login.refused.opens_today', vars) : t('login.refused.renews_today', vars);
    else if (days === 1) then = closed ? t('login.refused.opens_tomorrow', vars) : t('login.refused.renews_tomorrow', vars);
    else then = closed ? t('login.refused.opens_on', vars) : t('login.refused.renews_on', vars);
    return first + ' ' + then;
  }

  function onRefused(data) {
    const error = data && data.error;
    if (error !== 'closed' && error !== 'allowance-used') {
      onError(msg('login.error.generic'), true);
      return;
    }
    const closed = error === 'closed';
    const at = closed ? data.opens_at : data.renews_at;
    showCredentials({ text: function () { return refusalText(closed, at); } });
  }

  /* restart: a conversation in an unknown state is abandoned for step one. */
  function onError(message, restart) {
    if (restart && state.step === 'prompt') {
      showCredentials(message);
      return;
    }
    showAlert(message);
    focusFirstField(true);
  }

  function onNetworkError(error) {
    const timedOut = error && error.name === 'AbortError';
    onError(msg(timedOut ? 'login.error.timeout' : 'login.error.network'), false);
  }

  function handleResponse(response, data) {
    switch (response.status) {
      case 200: onAccepted(data); break;
      case 401: onFailed(); break;   /* bad credentials, or an expired conversation */
      case 403: onRefused(data); break;   /* outside the hours, or no time left today */
      case 429: onTooMany(response.headers.get('Retry-After')); break;
      case 503: onError(msg('login.error.busy'), false); break;
      default: onError(msg('login.error.generic'), true); break;
    }
  }

  async function onSubmit(event) {
    event.preventDefault();
    if (state.busy || waiting()) return;
    let body = state.step === 'prompt' ? answersBody() : credentialsBody();
    if (body === null) return;
    hideNotice();
    showAlert(null);
    setBusy(true);
    const request = postLogin(body);
    body = null;
    let result;
    try {
      result = await request;
    } catch (error) {
      setBusy(false);
      onNetworkError(error);
      return;
    }
    setBusy(false);
    handleResponse(result.response, result.data);
  }

  /* ---- back from another site ---- */

  /* A link on another site (the kiosk's catalogue) back to "/" is a
   * cross-site navigation: the session cookie (SameSite=Strict) does not
   * come with it, so the server shows this page to a person who is still
   * signed in. Our own request carries the cookie: a live session goes
   * back to its page (a same-site navigation now), at most once in 10 s
   * should the server still say no. */
  function resumeSession() {
    let last = 0;
    try { last = Number(sessionStorage.getItem('hourglass.resume')) || 0; } catch (e) { /* no storage */ }
    if (Date.now() - last < 10000) return;
    fetch('/api/session', { credentials: 'same-origin', cache: 'no-store' }).then(function (r) {
      if (r.status !== 200 || state.busy) return;
      try { sessionStorage.setItem('hourglass.resume', String(Date.now())); } catch (e) { /* no storage */ }
      window.location.replace('/');
    }, function () { /* no server: the form stays */ });
  }

  /* ---- the language switch ---- */

  /* One button per table of strings.js, each named in its own language
   * (and marked so, for screen readers); the one in use is pressed. The
   * choice holds in this browser until the kiosk's reset wipes it. */
  function buildLanguages() {
    if (!I18N || I18N.languages.length < 2) {
      el.langs.hidden = true;
      return;
    }
    const list = el.langs.querySelector('ul');
    I18N.languages.forEach(function (l) {
      const item = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'hg-langs__button';
      button.lang = l.code;
      button.textContent = l.name;
      button.setAttribute('data-lang', l.code);
      button.addEventListener('click', function () { I18N.setLanguage(l.code); });
      item.append(button);
      list.append(item);
    });
    markLanguage();
  }

  function markLanguage() {
    el.langs.querySelectorAll('button').forEach(function (b) {
      b.setAttribute('aria-pressed', String(b.getAttribute('data-lang') === I18N.lang));
    });
  }

  /* Everything this script wrote, again in the new language (i18n.js
   * redid the data-i18n elements). */
  function onLanguage() {
    markLanguage();
    el.lead.textContent = t(state.step === 'prompt' ? 'login.lead_prompt' : 'login.lead');
    updateSubmit();
    renderNotice();
    if (state.alert) showAlert(state.alert);
  }

  /* ---- start ---- */

  function init() {
    el.form = document.getElementById('hg-login-form');
    el.stepCredentials = document.getElementById('hg-step-credentials');
    el.stepPrompt = document.getElementById('hg-step-prompt');
    el.user = document.getElementById('hg-user');
    el.password = document.getElementById('hg-password');
    el.messages = document.getElementById('hg-messages');
    el.prompts = document.getElementById('hg-prompts');
    el.submit = document.getElementById('hg-submit');
    el.submitLabel = document.getElementById('hg-submit-label');
    el.restart = document.getElementById('hg-restart');
    el.alert = document.getElementById('hg-alert');
    el.notice = document.getElementById('hg-notice');
    el.lead = document.getElementById('hg-lead');
    el.langs = document.getElementById('hg-langs');

    el.form.addEventListener('submit', onSubmit);
    el.restart.addEventListener('click', function () { showCredentials(null); });
    /* Back from the browser cache: never show a half-finished conversation. */
    window.addEventListener('pageshow', function (event) {
      if (event.persisted) { setBusy(false); showCredentials(null); }
    });

    buildLanguages();
    window.addEventListener('hourglass:language', onLanguage);
    const ended = new URLSearchParams(window.location.search).has('ended');
    showEndedNotice();
    showCredentials(null);
    if (!ended) resumeSession();
  }

  init();
})();
