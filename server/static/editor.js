// Scholia's shared helper for editor modules: submit (or withdraw) an annotation through the
// JSON API. It adds the CSRF header, an idempotency key and the revision being corrected, and
// turns API errors into a message naming the bad field. It tries once: retrying is the
// caller's (the labeling page's outbox retries what could not reach the server; the item page
// leaves the input in the editor, to save again).

function csrfToken() {
  const match = document.cookie.match(/(?:^|; )scholia_csrf=([^;]*)/);
  return match ? decodeURIComponent(match[1]) : "";
}

export function csrfHeaders() {
  return { "Content-Type": "application/json", "X-CSRFToken": csrfToken() };
}

/** POST body to url as JSON: { ok, annotation: <the answer> } or
 * { ok: false, status, code, path, message } (status 0 when the server could not be reached). */
export async function postJSON(url, body) {
  let response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: csrfHeaders(),
      body: JSON.stringify(body),
      keepalive: true, // a save started just before navigating away still completes
    });
  } catch {
    return { ok: false, status: 0, message: "the server cannot be reached" };
  }
  const data = await response.json().catch(() => ({}));
  if (response.ok) return { ok: true, annotation: data };
  const error = data.error || {};
  // The message is written for people; the path (e.g. $.payload.value) is for the editor.
  return { ok: false, status: response.status, code: error.code, path: error.path || null,
           message: error.message || response.statusText };
}

/** Pages listen for this to refresh what depends on the item (status, annotation list). */
function announce(result) {
  if (result.ok) {
    document.body.dispatchEvent(new CustomEvent("scholia:annotation-saved", { detail: result.annotation }));
  }
  return result;
}

export async function submitAnnotation({ itemId, annotationType, payload, supersedesId = null,
                                         timeSpentMs = null, confidence = null, reasoning = null,
                                         clientOpId = crypto.randomUUID() }) {
  return announce(await postJSON(`/api/v1/items/${itemId}/annotations`, {
    annotation_type: annotationType,
    payload,
    supersedes_id: supersedesId,
    client_op_id: clientOpId, // the server stores each op id once: a resend never saves twice
    time_spent_ms: timeSpentMs,
    annotator_confidence: confidence,
    reasoning,
  }));
}

/** Take back my annotation (a withdrawal revision supersedes it; nothing is deleted). */
export async function withdrawAnnotation({ annotationId, clientOpId = crypto.randomUUID() }) {
  return announce(await postJSON(`/api/v1/annotations/${annotationId}/withdraw`,
                                 { client_op_id: clientOpId }));
}

/** Accept a model's suggestion as my label (superseding my revision, if any). */
export async function acceptSuggestion({ suggestionId, supersedesId = null, timeSpentMs = null,
                                         clientOpId = crypto.randomUUID() }) {
  return announce(await postJSON(`/api/v1/suggestions/${suggestionId}/accept`, {
    client_op_id: clientOpId, supersedes_id: supersedesId, time_spent_ms: timeSpentMs,
  }));
}
