// My account: the address book (add, edit, make default, delete).
import { start, requireSession, bindForm, customerCall, t, announce, formValues } from './common.js';

await start();
requireSession();
const form = document.getElementById('address');
const list = document.getElementById('address-list');
const heading = document.getElementById('form-heading');
const cancel = document.getElementById('cancel-edit');
const FIELDS = ['contactName', 'street', 'streetNumber', 'zipCode', 'city', 'country'];
let addresses = [];
let editing = null;

function line(a) {
  return [[a.street, a.streetNumber].filter(Boolean).join(' '), [a.zipCode, a.city].filter(Boolean).join(' '), a.country]
    .filter(Boolean);
}

function render() {
  document.getElementById('none').hidden = addresses.length > 0;
  list.replaceChildren(...addresses.map((a) => {
    const li = document.createElement('li');
    li.dataset.id = a.id;
    const address = document.createElement('address');
    const name = document.createElement('strong');
    name.textContent = a.contactName || line(a)[0] || '';
    address.append(name);
    if (a.isDefault) {
      const badge = document.createElement('span');
      badge.className = 'badge';
      badge.textContent = t('addresses.default');
      address.append(badge);
    }
    for (const text of a.contactName ? line(a) : line(a).slice(1)) {
      address.append(document.createElement('br'), document.createTextNode(text));
    }
    const actions = document.createElement('div');
    actions.className = 'actions';
    const label = a.contactName || line(a).join(', ');
    const button = (key, cls, onClick) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = cls;
      b.textContent = t(key);
      b.setAttribute('aria-label', `${t(key)}: ${label}`);
      b.addEventListener('click', onClick);
      return b;
    };
    actions.append(button('common.edit', 'secondary', () => edit(a)));
    if (!a.isDefault) actions.append(button('addresses.setDefault', 'secondary', () => makeDefault(a)));
    actions.append(button('common.delete', 'secondary', () => remove(a)));
    li.append(address, actions);
    return li;
  }));
}

async function load() {
  addresses = await customerCall('GET', '/me/addresses');
  if (!Array.isArray(addresses)) addresses = addresses.addresses || [];
  render();
}

function edit(a) {
  editing = a;
  for (const f of FIELDS) form.elements[f].value = a[f] ?? '';
  form.elements.isDefault.checked = !!a.isDefault;
  heading.textContent = t('addresses.edit');
  cancel.hidden = false;
  form.elements.contactName.focus();
}

function reset() {
  editing = null;
  form.reset();
  heading.textContent = t('addresses.add');
  cancel.hidden = true;
}

async function makeDefault(a) {
  await customerCall('PATCH', `/me/addresses/${encodeURIComponent(a.id)}`, { isDefault: true });
  await load();
  announce(t('addresses.defaultSet'));
}

async function remove(a) {
  await customerCall('DELETE', `/me/addresses/${encodeURIComponent(a.id)}`);
  if (editing && editing.id === a.id) reset();
  await load();
  announce(t('addresses.deleted'));
}

cancel.addEventListener('click', reset);
document.addEventListener('languagechange', () => {
  render();
  heading.textContent = t(editing ? 'addresses.edit' : 'addresses.add');
});

bindForm(form, async () => {
  if (editing) {
    const body = {};
    for (const f of FIELDS) {
      const now = form.elements[f].value;
      if (now !== (editing[f] ?? '')) body[f] = now === '' ? null : now;
    }
    if (form.elements.isDefault.checked && !editing.isDefault) body.isDefault = true;
    await customerCall('PATCH', `/me/addresses/${encodeURIComponent(editing.id)}`, body);
  } else {
    await customerCall('POST', '/me/addresses', formValues(form));
  }
  reset();
  await load();
  announce(t('addresses.saved.done'));
}, () => ({ 422: t('addresses.limit') }));

await load();
