// The code page works without this script: the button stays enabled and the server refuses a resend
// that comes too early, saying how long to wait. With it the button waits, showing the seconds left.
// The wait comes from the button's data-resend-wait (seconds, as the server counted when it drew the
// page), so the page needs no inline script.
(() => {
  const button = document.querySelector('button[data-resend-wait]');
  const hint = document.getElementById('resend-wait');
  const wait = Number(button?.dataset.resendWait);
  if (!button || !hint || !(wait > 0)) return;

  // Counted against the clock, not by ticks: a background tab runs its timers late.
  const end = Date.now() + wait * 1000;
  // The page's language: its texts for each plural form ("#" for the number), picked as that language counts.
  const own = document.getElementById('resend-texts')?.dataset ?? {};
  const texts = JSON.parse(own.wait || '{}');
  const rules = new Intl.PluralRules(document.documentElement.lang || 'en');
  const waitText = (n) => (texts[rules.select(n)] ?? texts.other ?? 'You can ask for a new code in # seconds.').replace('#', String(n));
  // The one announcement, when the button is back: a live region must be in the page before it
  // changes to be read out, and the per-second text stays out of it so it never floods.
  const ready = document.createElement('p');
  ready.className = 'hint';
  ready.setAttribute('role', 'status');
  hint.after(ready);
  button.disabled = true;

  const tick = () => {
    const left = end - Date.now();
    if (left > 0) {
      hint.textContent = waitText(Math.ceil(left / 1000));
      setTimeout(tick, left % 1000 || 1000);
      return;
    }
    button.disabled = false;
    button.removeAttribute('aria-describedby');
    hint.remove();
    ready.textContent = own.ready || 'You can ask for a new code now.';
  };
  tick();
})();
