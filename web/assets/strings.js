/*
 * hourglass: every user-visible string of the built-in pages, in one table.
 *
 * To translate, copy this file into the WebRoot as assets/strings.js and
 * translate the values (keep the keys and the {placeholders}; set meta.lang).
 * Plural forms use keys ending in a CLDR category (.zero .one .two .few .many
 * .other, see Intl.PluralRules); ".other" is the fallback and must exist.
 *
 * After the table, elements carrying data-i18n="key" get their text from it
 * (the HTML has the English text inline, so the pages read fine before this
 * runs). Put data-i18n only on elements whose whole content is that text.
 * The document's lang and dir follow meta.lang and meta.dir only on pages
 * whose <html> says data-i18n-root (ours): client.js loads this file into
 * operators' pages too, whose language is theirs.
 */
(function () {
  'use strict';

  window.HG_STRINGS = {
    'meta.lang': 'en',
    'meta.dir': 'ltr',

    /* Login page */
    'login.page_title': 'Sign in',
    'login.heading': 'Sign in',
    'login.lead': 'Enter your user name and password.',
    'login.lead_prompt': 'One more step to sign in.',
    'login.user_label': 'User name',
    'login.password_label': 'Password',
    'login.prompt_fallback': 'Answer',
    'login.submit': 'Sign in',
    'login.continue': 'Continue',
    'login.restart': 'Start over',
    'login.wait_button': 'Wait {seconds} s',
    'login.footnote': 'This is a shared device: you are signed out automatically after a while without activity. Please sign out when you are done.',
    'login.noscript': 'This page needs JavaScript to sign in.',
    'login.need_user': 'Enter your user name.',
    'login.need_password': 'Enter your password.',
    'login.failed': 'Sign-in failed. Check your user name and password and try again.',
    'login.error.too_many.one': 'Too many attempts. Try again in {seconds} second.',
    'login.error.too_many.other': 'Too many attempts. Try again in {seconds} seconds.',
    'login.error.busy': 'The system is busy, try again shortly.',
    'login.error.generic': 'Something went wrong. Please try again.',
    'login.error.network': 'Cannot reach the sign-in service. Check that this device is connected and try again.',
    'login.error.timeout': 'The sign-in service did not answer in time. Please try again.',

    /* Why the previous session ended (login page, ?ended=REASON[&after=SECONDS]) */
    'ended.idle-timeout': 'You were signed out after a period without activity.',
    'ended.idle-timeout.minutes.one': 'You were signed out after {minutes} minute without activity.',
    'ended.idle-timeout.minutes.other': 'You were signed out after {minutes} minutes without activity.',
    'ended.idle-timeout.seconds.one': 'You were signed out after {seconds} second without activity.',
    'ended.idle-timeout.seconds.other': 'You were signed out after {seconds} seconds without activity.',
    'ended.max-age': 'You were signed out: the session time limit was reached.',
    'ended.browser-closed': 'You were signed out because the browser window was closed.',
    'ended.terminated': 'You were signed out by an administrator.',
    'ended.replaced': 'You were signed out because you signed in elsewhere in this browser.',
    'ended.logout': 'You have signed out.',
    'ended.shutdown': 'You were signed out because the sign-in service was stopped.',
    'ended.unknown': 'Your previous session has ended.',

    /* Session page */
    'session.page_title': 'Signed in',
    'session.signed_in': 'Signed in',
    'session.signed_in_as': 'Signed in as {user}',
    'session.idle_limit_minutes.one': 'You are signed out after {minutes} minute without activity.',
    'session.idle_limit_minutes.other': 'You are signed out after {minutes} minutes without activity.',
    'session.idle_limit_seconds.one': 'You are signed out after {seconds} second without activity.',
    'session.idle_limit_seconds.other': 'You are signed out after {seconds} seconds without activity.',
    'session.logout': 'Sign out',
    'session.heading': 'Welcome',
    'session.home_placeholder': 'You are signed in. Your organisation can show its own content in this area.',
    'session.noscript': 'This page needs JavaScript. Close the browser to end your session.',
    'session.offline': 'Lost contact with the sign-in service. Retrying…',
    'session.error.script': 'The page script did not load. Reload the page, or close the browser to end your session.',
    'session.error.logout': 'Could not sign out. Please try again.',
    'session.error.logout_network': 'Could not reach the sign-in service to sign out. Please try again.',
    'session.error.busy': 'The system is busy, try again shortly.',

    /* Warning dialog (client.js), on every page that loads it */
    'warning.title': 'Are you still there?',
    'warning.text': 'You have not used this device for a while. To protect your account, you will be signed out when the time runs out.',
    'warning.text_max_age': 'Your session has reached its time limit and cannot be extended. Save your work: you will be signed out when the time runs out.',
    'warning.time_left': 'Time left:',
    'warning.stay': 'Stay signed in',
    'warning.ok': 'OK',
    'warning.sign_out': 'Sign out',
    'warning.left_seconds.one': '{seconds} second left before you are signed out.',
    'warning.left_seconds.other': '{seconds} seconds left before you are signed out.',
    'warning.left_minutes.one': '{minutes} minute left before you are signed out.',
    'warning.left_minutes.other': 'About {minutes} minutes left before you are signed out.'
  };

  function applyStrings(table) {
    const root = document.documentElement;
    if (root.hasAttribute('data-i18n-root')) {
      if (table['meta.lang']) root.lang = table['meta.lang'];
      if (table['meta.dir']) root.dir = table['meta.dir'];
    }
    document.querySelectorAll('[data-i18n]').forEach(function (node) {
      const text = table[node.getAttribute('data-i18n')];
      if (typeof text === 'string') node.textContent = text;
    });
  }

  /* Loaded with defer: the document is parsed when this runs. */
  applyStrings(window.HG_STRINGS);
})();
