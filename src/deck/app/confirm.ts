/** Operator actions: nothing is sent before the operator confirms it in this dialog. */
import { html } from 'htm/preact';

export interface ActionRequest {
  readonly title: string;
  readonly text: string;
  readonly path: string;
  readonly body: unknown;
  readonly confirm: string;
}

export type Ask = (request: ActionRequest) => void;

export function ConfirmDialog({
  request,
  busy,
  onConfirm,
  onCancel,
}: {
  request: ActionRequest;
  busy: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  return html`<div class="backdrop">
    <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="confirm-title">
      <h3 id="confirm-title">${request.title}</h3>
      <p>${request.text}</p>
      <div class="buttons">
        <button class="secondary" onClick=${onCancel} disabled=${busy}>Cancel</button>
        <button class="danger" data-confirm onClick=${onConfirm} disabled=${busy}>${busy ? 'Sending…' : request.confirm}</button>
      </div>
    </div>
  </div>`;
}
