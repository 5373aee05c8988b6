// Scholia's shared helper for editor modules: submit an annotation to the JSON API.
// It adds the CSRF header, an idempotency key (so a retry never saves twice) and the revision
// being corrected, and turns API errors into a message naming the bad field.

function csrfToken() {
  const match = document.cookie.match(/(?:^|; )scholia_csrf=([^;]*)/);
  return match ? decodeURIComponent(match[1]) : "";
}

export function csrfHeaders() {
  return { "Content-Type": "application/json", "X-CSRFToken": csrfToken() };
}

export async function submitAnnotation({ itemId, annotationType, payload, supersedesId = null,
                                         timeSpentMs = null, confidence = null, reasoning = null,
                                         clientOpId = crypto.randomUUID() }) {
  const body = {
    annotation_type: annotationType,
    payload,
    supersedes_id: supersedesId,
    client_op_id: clientOpId,
    time_spent_ms: timeSpentMs,
    annotator_confidence: confidence,
    reasoning,
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    let response;
    try {
      response = await fetch(`/api/v1/items/${itemId}/annotations`, {
        method: "POST",
        headers: csrfHeaders(),
        body: JSON.stringify(body),
        keepalive: true, // a save started just before navigating away still completes
      });
    } catch (networkError) {
      await new Promise((resolve) => setTimeout(resolve, 500 * 2 ** attempt));
      continue; // same client_op_id: the server stores it at most once
    }
    const data = await response.json().catch(() => ({}));
    if (response.ok) {
      // Pages listen for this to refresh what depends on the item (status, annotation list).
      document.body.dispatchEvent(new CustomEvent("scholia:annotation-saved", { detail: data }));
      return { ok: true, annotation: data };
    }
    const error = data.error || {};
    // The message is written for people; the path (e.g. $.payload.value) is for the editor.
    return { ok: false, status: response.status, code: error.code, path: error.path || null,
             message: error.message || response.statusText };
  }
  return { ok: false, status: 0, message: "Could not reach the server; your input is kept, try again." };
}
