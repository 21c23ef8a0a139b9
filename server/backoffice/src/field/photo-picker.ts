// Photos picked one by one or several at once (the phone offers its camera or its gallery),
// prepared on the phone (orientation, size, no metadata: @guichet/web/photos), previewed, and
// each removable. At most five, as the server takes.
import { h, replace } from '@guichet/web/dom';
import { preparePhoto } from '@guichet/web/photos';
import { t } from './i18n';

export const MAX_PHOTOS = 5;

export interface PhotoPicker {
  /** The label, hint, input, error and previews. */
  el: HTMLElement;
  input: HTMLInputElement;
  error: HTMLElement;
  /** The photos once those being prepared are ready. */
  photos(): Promise<Blob[]>;
  /** Says a problem at the field and takes the focus there. */
  fail(message: string): void;
  /** Forgets the photos (after the form was queued, or when leaving). */
  dispose(): void;
}

export function photoPicker(id: string, label: string, hint: string): PhotoPicker {
  const input = h('input', { type: 'file', id, name: id, accept: 'image/jpeg,image/png,image/webp', multiple: true, 'aria-describedby': `${id}-hint ${id}-error` });
  const error = h('p', { class: 'field-error', id: `${id}-error`, hidden: true });
  const previews = h('ul', { class: 'previews', id: `${id}-previews` });
  const chosen: { blob: Blob; url: string }[] = [];
  /** The preparation under way, so that a quick "submit" waits for it. */
  let preparing: Promise<void> = Promise.resolve();

  function render(): void {
    replace(previews, chosen.map((c, i) => {
      const remove = h('button', { type: 'button', class: 'secondary small', 'aria-label': t('close.photo.remove', { n: i + 1 }) }, '✕');
      remove.addEventListener('click', () => {
        URL.revokeObjectURL(c.url);
        chosen.splice(i, 1);
        render();
        input.focus();
      });
      return h('li', null, h('img', { src: c.url, alt: t('close.photo.preview', { n: i + 1 }), width: 96, height: 72 }), remove);
    }));
  }

  async function add(files: File[]): Promise<void> {
    for (const f of files) {
      if (chosen.length >= MAX_PHOTOS) {
        picker.fail(t('close.photos.tooMany'));
        break;
      }
      const blob = await preparePhoto(f);
      chosen.push({ blob, url: URL.createObjectURL(blob) });
    }
    render();
  }

  input.addEventListener('change', () => {
    const files = [...(input.files ?? [])];
    input.value = '';
    error.hidden = true;
    input.removeAttribute('aria-invalid');
    preparing = preparing.then(() => add(files));
  });

  const picker: PhotoPicker = {
    el: h('div', { class: 'form-field photos-field' },
      h('label', { for: id }, label),
      h('p', { class: 'hint', id: `${id}-hint` }, hint),
      input, error, previews),
    input,
    error,
    photos: async () => {
      await preparing;
      return chosen.map((c) => c.blob);
    },
    fail(message) {
      error.textContent = message;
      error.hidden = false;
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    },
    dispose() {
      chosen.splice(0).forEach((c) => URL.revokeObjectURL(c.url));
      replace(previews);
    },
  };
  return picker;
}
