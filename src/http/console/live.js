// Live job events: Server-Sent Events read with fetch (EventSource cannot send the
// token header), reconnecting after 2 s with the last id seen.
import { state, base } from './core.js';

/** Follows the project's events, calling onReset and onJob; ends with stopLive(). */
export function startLive(onJob, onReset) {
  stopLive();
  const live = { stop: false, lastId: null, controller: null };
  state.live = live;
  const indicator = document.getElementById('live');
  const loop = async () => {
    while (!live.stop && state.session) {
      live.controller = new AbortController();
      const headers = { 'X-Auth-Token': state.session.token };
      if (live.lastId) headers['Last-Event-ID'] = live.lastId;
      try {
        const response = await fetch(base() + '/graphs/jobs/events', { headers, signal: live.controller.signal });
        if (!response.ok) throw new Error('status ' + response.status);
        indicator.textContent = '● live';
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            dispatch(live, buffer.slice(0, end), onJob, onReset);
            buffer = buffer.slice(end + 2);
          }
        }
      } catch {
        if (live.stop) return;
      }
      indicator.textContent = '○ reconnecting';
      await new Promise((r) => setTimeout(r, 2000));
    }
  };
  loop();
}

export function stopLive() {
  if (state.live) {
    state.live.stop = true;
    if (state.live.controller) state.live.controller.abort();
  }
  state.live = null;
}

function dispatch(live, block, onJob, onReset) {
  let event = 'message', data = '', id = null;
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const at = line.indexOf(':');
    const field = at < 0 ? line : line.slice(0, at);
    const value = at < 0 ? '' : line.slice(at + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data += value;
    else if (field === 'id') id = value;
  }
  if (id) live.lastId = id;
  if (event === 'reset') onReset();
  if (event === 'job') onJob(JSON.parse(data));
}

