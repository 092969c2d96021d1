// The passkey pages' one script. The server draws the form with the WebAuthn options in its
// data-passkey-options (JSON, binary fields in base64url); this script hands them to the browser,
// puts the browser's answer (JSON, base64url again) into the form's `response` field and posts the
// form as any other. Without it the pages still post (an empty answer) and offer the other factors.
(() => {
  const form = document.querySelector('form[data-passkey-options]');
  const field = form?.querySelector('input[name="response"]');
  const status = document.getElementById('passkey-status');
  if (!form || !field || !status || !window.PublicKeyCredential) return;
  const create = form.dataset.passkey === 'create';
  const options = JSON.parse(form.dataset.passkeyOptions);

  const bytes = (b64url) => Uint8Array.from(atob(b64url.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  const text = (buffer) => btoa(String.fromCharCode(...new Uint8Array(buffer))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const withIds = (list) => (list || []).map((c) => ({ ...c, id: bytes(c.id) }));
  const publicKey = create
    ? { ...options, challenge: bytes(options.challenge), user: { ...options.user, id: bytes(options.user.id) }, excludeCredentials: withIds(options.excludeCredentials) }
    : { ...options, challenge: bytes(options.challenge), allowCredentials: withIds(options.allowCredentials) };

  function answer(credential) {
    const r = credential.response;
    const response = create
      ? { clientDataJSON: text(r.clientDataJSON), attestationObject: text(r.attestationObject), transports: r.getTransports ? r.getTransports() : [] }
      : { clientDataJSON: text(r.clientDataJSON), authenticatorData: text(r.authenticatorData), signature: text(r.signature), userHandle: r.userHandle ? text(r.userHandle) : undefined };
    return JSON.stringify({
      id: credential.id, rawId: text(credential.rawId), type: credential.type, response,
      clientExtensionResults: credential.getClientExtensionResults(), authenticatorAttachment: credential.authenticatorAttachment || undefined,
    });
  }

  let busy = false;
  async function run() {
    if (busy) return;
    busy = true;
    status.textContent = '';
    try {
      const credential = await (create ? navigator.credentials.create({ publicKey }) : navigator.credentials.get({ publicKey }));
      field.value = answer(credential);
      form.submit();
    } catch {
      // Cancelled, timed out or refused by the browser: the challenge still holds, so the button tries again.
      // The page's language, from the status line's own data (the English stands in for a page without it).
      status.textContent = status.dataset.notUsed || 'The passkey was not used. Try again, or choose another way.';
      busy = false;
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    run();
  });
  // Signing in, the user already asked for the passkey on the page before.
  if (!create) run();
})();
