// VisitRelay web client: joins a room through the relay (docs/signaling.md), shows the other
// participants in fixed receive slots, reports connection quality, and reconnects by itself.
'use strict';

const TEXT = {
  da: {
    title: 'Skærmbesøg', room: 'Besøgets kode', role: 'Jeg er', citizen: 'Borger', staff: 'Medarbejder',
    interpreter: 'Tolk', join: 'Start besøg', leave: 'Afslut besøg', mute: 'Slå mikrofon fra', unmute: 'Slå mikrofon til',
    cameraOff: 'Slå kamera fra', cameraOn: 'Slå kamera til', sound: 'Tryk for at høre lyd',
    connecting: 'Forbinder…', connected: 'Forbundet', waiting: 'Venter på den anden part…',
    lost: 'Forbindelsen er tabt. Forbinder igen…', ended: 'Besøget er afsluttet.',
    denied: 'Kameraet eller mikrofonen er blokeret. Giv browseren lov i adresselinjen, og prøv igen.',
    noDevice: 'Der blev ikke fundet noget kamera eller nogen mikrofon.',
    draining: 'Forbindelsen genstartes. Vi prøver igen om lidt…', full: 'Der er ikke plads i besøget lige nu. Vi prøver igen om lidt…',
    busy: 'Der er travlt lige nu. Vi prøver igen om lidt…',
    offline: 'Ingen internetforbindelse. Vi prøver igen, så snart den er tilbage…', failed: 'Kunne ikke forbinde: ',
    good: 'God forbindelse', fair: 'Ustabil forbindelse', poor: 'Dårlig forbindelse', other: 'Anden deltager',
    videoPaused: 'Video sat på pause: svag forbindelse. Lyden fortsætter.',
    cameraOffOther: 'Kameraet er slået fra. I kan stadig tale sammen.',
  },
  en: {
    title: 'Video visit', room: 'Visit code', role: 'I am', citizen: 'Citizen', staff: 'Staff', interpreter: 'Interpreter',
    join: 'Start visit', leave: 'End visit', mute: 'Mute microphone', unmute: 'Unmute microphone',
    cameraOff: 'Turn camera off', cameraOn: 'Turn camera on', sound: 'Tap to hear sound',
    connecting: 'Connecting…', connected: 'Connected', waiting: 'Waiting for the other party…',
    lost: 'Connection lost. Reconnecting…', ended: 'The visit has ended.',
    denied: 'The camera or microphone is blocked. Allow it in the address bar and try again.',
    noDevice: 'No camera or microphone was found.',
    draining: 'The connection is restarting. Trying again shortly…', full: 'There is no room in the visit right now. Trying again shortly…',
    busy: 'It is busy right now. Trying again shortly…',
    offline: 'No internet connection. Trying again as soon as it is back…', failed: 'Could not connect: ',
    good: 'Good connection', fair: 'Unstable connection', poor: 'Poor connection', other: 'Other participant',
    videoPaused: 'Video paused: weak connection. Sound continues.',
    cameraOffOther: 'The camera is off. You can still talk.',
  },
};

const params = new URLSearchParams(location.search);
let lang = params.get('lang') === 'en' ? 'en' : 'da';
// The join token from the invitation link: in the fragment (#token=..., never sent to servers or
// logs) or, failing that, the query.
const joinToken = new URLSearchParams(location.hash.slice(1)).get('token') || params.get('token');
const t = (key) => TEXT[lang][key] || key;

function applyText() {
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll('[data-text]')) el.textContent = t(el.dataset.text);
}

const $ = (id) => document.getElementById(id);
const roomMatch = location.pathname.match(/^\/r\/([A-Za-z0-9_-]{1,64})\/?$/);

// State exposed for tests (window.visitRelay).
const state = {
  joined: false, connectionState: 'new', participantId: null, slots: [], error: null,
  lastBye: null, joinStartedAt: null, joinedAt: null, connectedAt: null, firstRemoteFrameAt: null, reconnects: 0,
  iceRestarts: 0, refusals: [],
};
// `session` is the current session's URL; `previousSession` the last one we had, named in a rejoin
// (`?replaces=`) so the relay drops it at once and we never count twice.
let pc = null, ws = null, session = null, previousSession = null, localStream = null, ended = false;
const slotStreams = new Map();

function setStatus(key, extra = '') { $('status').textContent = t(key) + extra; }

// Audio and video are asked for together (one prompt), and if that fails, separately: a citizen
// without a camera, or who denies it, still joins with sound. Only with neither does the page stop.
async function getMedia() {
  const video = { width: 640, height: 360 };
  try {
    return await navigator.mediaDevices.getUserMedia({ audio: true, video });
  } catch (error) {
    const tracks = [];
    for (const constraints of [{ audio: true }, { video }]) {
      try {
        for (const track of (await navigator.mediaDevices.getUserMedia(constraints)).getTracks()) tracks.push(track);
      } catch (e) { /* this one is missing or denied: go on with the other */ }
    }
    if (!tracks.length) {
      state.error = error.name;
      setStatus(error.name === 'NotAllowedError' || error.name === 'SecurityError' ? 'denied' : 'noDevice');
      throw error;
    }
    state.missingMedia = tracks.some((t) => t.kind === 'video') ? 'audio' : 'video';
    return new MediaStream(tracks);
  }
}

// Simulcast (two encodings: half and full resolution) when the relay takes it, so that each
// receiver gets what its own downlink carries. Staff and interpreters send it by default; a citizen,
// usually on a 4G uplink, sends one stream unless ?simulcast=1. ?simulcast=0 turns it off.
function simulcastEncodings(config, role) {
  const wanted = params.get('simulcast');
  if (!config.simulcast || wanted === '0' || (role === 'citizen' && wanted !== '1')) return undefined;
  return [
    { rid: 'l', scaleResolutionDownBy: 2, maxBitrate: 250000 },
    { rid: 'h', scaleResolutionDownBy: 1, maxBitrate: 1200000 },
  ];
}

async function join(room, role) {
  setStatus('connecting');
  state.joinStartedAt = performance.now();
  state.connectedAt = null;
  // With join tokens the relay hands out its configuration (TURN credentials) only to the invited.
  const auth = joinToken ? { Authorization: `Bearer ${joinToken}` } : {};
  const configResponse = await fetch(`/api/config?room=${encodeURIComponent(room)}&role=${role}`, { headers: auth });
  if (configResponse.status !== 200) {
    let message = configResponse.statusText;
    try { message = (await configResponse.json()).message || message; } catch (e) { /* not JSON */ }
    throw new JoinRefused(configResponse.status, message, Number(configResponse.headers.get('Retry-After')) || 0);
  }
  const config = await configResponse.json();
  if (!localStream) localStream = await getMedia();
  // ?policy=relay forces TURN (as a locked-down network would); the relay's config lists the servers.
  const iceTransportPolicy = params.get('policy') === 'relay' ? 'relay' : 'all';
  pc = new RTCPeerConnection({ iceServers: config.iceServers || [], iceTransportPolicy, bundlePolicy: 'max-bundle' });
  const [audioTrack] = localStream.getAudioTracks();
  const [videoTrack] = localStream.getVideoTracks();
  // Without a track the section is inactive: the relay then publishes nothing for it and tells the
  // others that this participant's camera is off.
  pc.addTransceiver(audioTrack || 'audio', { direction: audioTrack ? 'sendonly' : 'inactive', streams: [localStream] });
  pc.addTransceiver(videoTrack || 'video', {
    direction: videoTrack ? 'sendonly' : 'inactive', streams: [localStream],
    sendEncodings: videoTrack ? simulcastEncodings(config, role) : undefined,
  });
  for (let i = 0; i < config.maxParticipants - 1; i++) {
    pc.addTransceiver('audio', { direction: 'recvonly' });
    pc.addTransceiver('video', { direction: 'recvonly' });
  }
  pc.onconnectionstatechange = onConnectionState;
  await pc.setLocalDescription(withAudioNack(await pc.createOffer()));
  const headers = { 'Content-Type': 'application/sdp' };
  Object.assign(headers, auth);
  const replaces = previousSession ? `&replaces=${encodeURIComponent(previousSession.split('/').pop())}` : '';
  const response = await fetch(`/api/rooms/${room}/participants?role=${role}${replaces}`, {
    method: 'POST', headers, body: pc.localDescription.sdp,
  });
  if (response.status !== 201) {
    let message = response.statusText;
    try { message = (await response.json()).message || message; } catch (e) { /* not JSON */ }
    state.refusals.push(response.status);
    throw new JoinRefused(response.status, message, Number(response.headers.get('Retry-After')) || 0);
  }
  session = response.headers.get('Location');
  previousSession = session;
  state.participantId = response.headers.get('X-Participant-Id');
  await pc.setRemoteDescription({ type: 'answer', sdp: await response.text() });
  state.joined = true;
  state.joinedAt = performance.now();
  openEvents();
}

// A join the relay answered with an error. 409 (room full), 429 (too many joins) and 503 (draining)
// pass: the page keeps trying with back-off. Anything else (a bad token, a bad room) will not.
class JoinRefused extends Error {
  constructor(status, message, retryAfterSeconds) { super(message); this.status = status; this.retryAfterSeconds = retryAfterSeconds; }
  get passing() { return [409, 429, 503].includes(this.status) || this.status >= 500; }
  get statusKey() { return { 409: 'full', 429: 'busy', 503: 'draining' }[this.status] || 'lost'; }
}

function openEvents() {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  ws = new WebSocket(`${scheme}://${location.host}${session}/events`);
  ws.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.type === 'room') showRoom(event);
    if (event.type !== 'bye') return;
    state.lastBye = event.reason;
    if (event.reason === 'draining') {
      // The relay is stopping: leave properly (so it need not wait for us), then rejoin with back-off.
      teardown(true);
      scheduleReconnect({ statusKey: 'draining' });
    } else if (event.reason !== 'left') {
      // The relay ended our session (our path died: consent lost while we slept, never connected,
      // DTLS gone): rejoin at once rather than sit "connected" and silent.
      scheduleReconnect({ delayMs: 0 });
    }
  };
  ws.onclose = () => { if (!ended && state.joined) scheduleReconnect({ delayMs: 0 }); };
}

function showRoom(event) {
  state.slots = event.slots;
  if (state.missingMedia === 'video') $('self').hidden = true;
  const remotes = $('remotes');
  let anyone = false;
  for (const slot of event.slots) {
    let tile = document.getElementById(`slot-${slot.slot}`);
    if (!tile) {
      tile = document.createElement('div');
      tile.className = 'tile';
      tile.id = `slot-${slot.slot}`;
      tile.innerHTML = '<video autoplay playsinline></video><span class="name"></span><span class="paused" hidden></span><span class="camera-off" hidden></span>';
      remotes.appendChild(tile);
    }
    const video = tile.querySelector('video');
    if (!slotStreams.has(slot.slot)) {
      const stream = new MediaStream();
      for (const transceiver of pc.getTransceivers()) {
        if (transceiver.mid === slot.audioMid || transceiver.mid === slot.videoMid) stream.addTrack(transceiver.receiver.track);
      }
      slotStreams.set(slot.slot, stream);
      video.srcObject = stream;
      watchFirstFrame(video);
    }
    tile.hidden = !slot.participant;
    // The relay paused this video for us (our connection is too weak for it); audio goes on.
    const paused = tile.querySelector('.paused');
    paused.hidden = !(slot.participant && slot.videoPaused);
    paused.textContent = t('videoPaused');
    tile.classList.toggle('video-paused', Boolean(slot.participant && slot.videoPaused));
    // A participant without a camera: a calm tile with its role, never a black box.
    const cameraOff = Boolean(slot.participant && slot.participant.camera === false);
    const cameraText = tile.querySelector('.camera-off');
    cameraText.hidden = !cameraOff;
    cameraText.textContent = t('cameraOffOther');
    tile.classList.toggle('camera-off', cameraOff);
    if (slot.participant) {
      anyone = true;
      tile.querySelector('.name').textContent = t(slot.participant.role) || t('other');
      video.play().catch(() => { $('sound').hidden = false; });
    }
  }
  setStatus(anyone ? 'connected' : 'waiting');
}

function watchFirstFrame(video) {
  const mark = () => { if (state.firstRemoteFrameAt === null && state.joinedAt !== null) state.firstRemoteFrameAt = performance.now(); };
  if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(mark);
  else video.addEventListener('loadeddata', mark, { once: true });
}

function onConnectionState() {
  state.connectionState = pc.connectionState;
  if (pc.connectionState === 'connected') {
    if (state.connectedAt === null) state.connectedAt = performance.now();
    backoffMs = 1000;
    stopRecovery();
  }
  if (pc.connectionState === 'disconnected' || pc.connectionState === 'failed') startRecovery();
}

// While the path is down (a 4G outage, a handover that did not come back) the session stays and we
// restart ICE over signaling every couple of seconds: each restart makes the browser check afresh,
// so media is back within a moment of the link's return, in the same session and slots. If the
// relay has ended the session meanwhile (PATCH 404, or `bye` on the WebSocket), we rejoin.
const RECOVERY_INTERVAL_MS = 2000;
let recoveryTimer = null;
function startRecovery() {
  if (recoveryTimer || ended) return;
  recoveryTimer = setTimeout(recoveryStep, 1500);
}

function stopRecovery() {
  if (recoveryTimer) clearTimeout(recoveryTimer);
  recoveryTimer = null;
}

async function recoveryStep() {
  recoveryTimer = null;
  if (ended || !pc || pc.connectionState === 'connected') return;
  setStatus(lostKey());
  try {
    await restartIce();
  } catch (e) {
    if (e.status === 404) { scheduleReconnect({ delayMs: 0 }); return; }  // the relay ended the session
    if (e.status === undefined) { scheduleReconnect({}); return; }  // signaling unreachable: rejoin with back-off
  }
  if (!recoveryTimer && pc && pc.connectionState !== 'connected') recoveryTimer = setTimeout(recoveryStep, jittered(RECOVERY_INTERVAL_MS));
}

// The browser says the network is back (or changed): do not wait for the next timer.
function retryNow() {
  if (ended) return;
  if (reconnectTimer) { clearTimeout(reconnectTimer); reconnectTimer = null; reconnect(); return; }
  if (recoveryTimer) { stopRecovery(); recoveryStep(); }
}
window.addEventListener('online', retryNow);
if (navigator.connection && navigator.connection.addEventListener) navigator.connection.addEventListener('change', retryNow);

/** `ms` spread over ±25 %, so clients that lost the same link do not come back in step. */
const jittered = (ms) => Math.round(ms * (0.75 + Math.random() * 0.5));

// Browsers do not offer NACK for Opus by themselves; with it, the relay can ask the citizen's
// tablet again for a voice packet its 4G uplink lost, and the tablet can ask the relay for one its
// downlink lost (each only while the packet can still be played). So every audio section of our
// offer gets `a=rtcp-fb:<opus> nack` (RFC 4585 §4.2), as LiveKit's client does.
function withAudioNack(offer) {
  const sections = offer.sdp.split(/\r\n(?=m=)/);
  const munged = sections.map((section) => {
    if (!section.startsWith('m=audio')) return section;
    const opus = section.match(/^a=rtpmap:(\d+) opus\/48000/im);
    if (!opus || new RegExp(`^a=rtcp-fb:${opus[1]} nack\\r?$`, 'm').test(section)) return section;
    return section.replace(new RegExp(`(^a=rtpmap:${opus[1]} opus[^\\r\\n]*)`, 'm'), `$1\r\na=rtcp-fb:${opus[1]} nack`);
  });
  return { type: offer.type, sdp: munged.join('\r\n') };
}

// An ICE restart through signaling (RFC 8445 §9; docs/signaling.md): an offer with new ICE
// credentials, PATCHed to our session; the relay answers with new ones of its own. DTLS, SRTP and
// the receive slots stay as they are.
async function restartIce() {
  if (!pc || !session) throw new Error('not joined');
  await pc.setLocalDescription(withAudioNack(await pc.createOffer({ iceRestart: true })));
  const response = await fetch(session, { method: 'PATCH', headers: { 'Content-Type': 'application/sdp' }, body: pc.localDescription.sdp });
  if (response.status !== 200) throw Object.assign(new Error(`ICE restart refused: ${response.status}`), { status: response.status });
  await pc.setRemoteDescription({ type: 'answer', sdp: await response.text() });
  state.iceRestarts += 1;
}

// Rejoining: at once when the relay ended our session, otherwise after a back-off that doubles from
// 1 s to 30 s with jitter (or the relay's Retry-After, if longer). It keeps trying while the page is
// open; only a refusal that will not pass (a bad token) stops it.
const MAX_BACKOFF_MS = 30000;
let backoffMs = 1000;
let reconnectTimer = null;
function scheduleReconnect({ delayMs, statusKey = lostKey() } = {}) {
  if (ended || reconnectTimer) return;
  stopRecovery();
  setStatus(statusKey);
  teardown(false);
  const wait = delayMs !== undefined ? delayMs : jittered(backoffMs);
  if (delayMs === undefined) backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
  reconnectTimer = setTimeout(() => { reconnectTimer = null; reconnect(); }, wait);
}

async function reconnect() {
  state.reconnects += 1;
  try {
    await join(roomMatch[1], role());
  } catch (e) {
    if (e instanceof JoinRefused && !e.passing) { setStatus('failed', e.message); return; }
    if (e instanceof JoinRefused && e.retryAfterSeconds * 1000 > backoffMs) backoffMs = Math.min(e.retryAfterSeconds * 1000, MAX_BACKOFF_MS);
    scheduleReconnect({ statusKey: e instanceof JoinRefused ? e.statusKey : lostKey() });
  }
}

// When the relay did not answer at all: "no internet" if the browser says it is offline, else "lost".
// (A refusal the relay sent proves the network works, whatever navigator.onLine says.)
const lostKey = () => (navigator.onLine === false ? 'offline' : 'lost');

function teardown(sendLeave) {
  state.joined = false;
  if (ws) { ws.onclose = null; ws.close(); ws = null; }
  if (pc) { pc.onconnectionstatechange = null; pc.close(); pc = null; }
  if (sendLeave && session) { fetch(session, { method: 'DELETE', keepalive: true }).catch(() => {}); previousSession = null; }
  session = null;
  slotStreams.clear();
  $('remotes').innerHTML = '';
}

const role = () => (['citizen', 'staff', 'interpreter'].includes(params.get('role')) ? params.get('role') : 'citizen');

async function stats() {
  // The PeerConnection of this moment: a rejoin may replace `pc` while getStats runs.
  const conn = pc;
  if (!conn) return { inbound: [], outbound: [], candidatePair: null, transport: null };
  const report = await conn.getStats();
  const out = { inbound: [], outbound: [], candidatePair: null, transport: null };
  const mids = new Map(conn.getTransceivers().map((t) => [t.receiver.track && t.receiver.track.id, t.mid]));
  out.codecs = {};
  report.forEach((s) => {
    if (s.type === 'codec') out.codecs[s.id] = s.mimeType;
    if (s.type === 'inbound-rtp') {
      out.inbound.push({
        kind: s.kind, mid: s.mid || mids.get(s.trackIdentifier) || null, ssrc: s.ssrc, framesDecoded: s.framesDecoded || 0,
        packetsReceived: s.packetsReceived || 0, packetsLost: s.packetsLost || 0, nackCount: s.nackCount || 0,
        pliCount: s.pliCount || 0, freezeCount: s.freezeCount || 0, totalFreezesDuration: s.totalFreezesDuration || 0,
        jitter: s.jitter || 0, bytesReceived: s.bytesReceived || 0, frameWidth: s.frameWidth || null, frameHeight: s.frameHeight || null,
        // Audio: what was played, what was made up for lost packets, and the jitter buffer's delay.
        totalSamplesReceived: s.totalSamplesReceived || 0, concealedSamples: s.concealedSamples || 0,
        silentConcealedSamples: s.silentConcealedSamples || 0, concealmentEvents: s.concealmentEvents || 0,
        jitterBufferDelay: s.jitterBufferDelay || 0, jitterBufferEmittedCount: s.jitterBufferEmittedCount || 0,
        fecPacketsReceived: s.fecPacketsReceived || 0, packetsDiscarded: s.packetsDiscarded || 0,
        codecId: s.codecId || null, timestamp: s.timestamp,
      });
    } else if (s.type === 'outbound-rtp') {
      out.outbound.push({ kind: s.kind, rid: s.rid || null, codecId: s.codecId || null, bytesSent: s.bytesSent || 0, packetsSent: s.packetsSent || 0, framesSent: s.framesSent || 0, timestamp: s.timestamp,
        targetBitrate: s.targetBitrate || null, frameWidth: s.frameWidth || null, framesPerSecond: s.framesPerSecond || null,
        qualityLimitationReason: s.qualityLimitationReason || null, retransmittedBytesSent: s.retransmittedBytesSent || 0 });
    } else if (s.type === 'transport') {
      out.transport = {
        dtlsState: s.dtlsState, tlsVersion: s.tlsVersion, dtlsCipher: s.dtlsCipher, srtpCipher: s.srtpCipher,
        selectedCandidatePairChanges: s.selectedCandidatePairChanges, selectedCandidatePairId: s.selectedCandidatePairId,
      };
    }
  });
  const pairId = out.transport && out.transport.selectedCandidatePairId;
  report.forEach((s) => {
    if (s.type === 'candidate-pair' && (s.id === pairId || (!pairId && s.nominated))) {
      out.candidatePair = { state: s.state, currentRoundTripTime: s.currentRoundTripTime, availableOutgoingBitrate: s.availableOutgoingBitrate,
        bytesSent: s.bytesSent || 0, bytesReceived: s.bytesReceived || 0,
        localCandidateId: s.localCandidateId, remoteCandidateId: s.remoteCandidateId };
    }
  });
  // Which path the visit took: UDP, ICE-TCP, or through TURN (and over what to the TURN server).
  if (out.candidatePair) {
    const local = report.get(out.candidatePair.localCandidateId);
    const remote = report.get(out.candidatePair.remoteCandidateId);
    if (local) Object.assign(out.candidatePair, { localType: local.candidateType, localProtocol: local.protocol, relayProtocol: local.relayProtocol || null });
    if (remote) Object.assign(out.candidatePair, { remoteProtocol: remote.protocol, remotePort: remote.port, remoteAddress: remote.address || remote.ip || null });
  }
  return out;
}

let lastDecoded = 0;
async function updateQuality() {
  if (!pc) return;
  const s = await stats();
  const rtt = s.candidatePair && s.candidatePair.currentRoundTripTime;
  const video = s.inbound.filter((i) => i.kind === 'video');
  const decoded = video.reduce((n, i) => n + i.framesDecoded, 0);
  const received = s.inbound.reduce((n, i) => n + i.packetsReceived, 0);
  const lost = s.inbound.reduce((n, i) => n + Math.max(0, i.packetsLost), 0);
  const lossRate = received + lost > 0 ? lost / (received + lost) : 0;
  // Video that is not coming (nobody there, or only participants without a camera) is no sign of trouble.
  const progressing = decoded > lastDecoded || state.slots.every((slot) => !slot.participant || slot.participant.camera === false);
  lastDecoded = decoded;
  let level = 'good';
  if ((rtt && rtt > 0.3) || lossRate > 0.02 || !progressing) level = 'fair';
  if ((rtt && rtt > 0.8) || lossRate > 0.08 || pc.connectionState !== 'connected') level = 'poor';
  const q = $('quality');
  q.className = level;
  q.textContent = t(level) + (rtt ? ` (${Math.round(rtt * 1000)} ms)` : '');
}

async function report(url) {
  try {
    const body = JSON.stringify({ state: window.visitRelay.state(), stats: await stats() });
    await fetch(url, { method: 'POST', body, headers: { 'Content-Type': 'application/json' } });
  } catch (e) { /* the collector may be gone */ }
}

window.visitRelay = {
  state: () => ({ ...state, slots: state.slots }),
  stats,
  get joinedAt() { return state.joinedAt; },
  get firstRemoteFrameAt() { return state.firstRemoteFrameAt; },
  restartIce: () => restartIce().then(() => true),
  descriptions: () => ({ local: pc && pc.localDescription && pc.localDescription.sdp, remote: pc && pc.remoteDescription && pc.remoteDescription.sdp }),
};

function startVisit() {
  const r = role();
  document.body.classList.add(r);
  $('visit').hidden = false;
  if (r !== 'citizen') {
    $('mute').hidden = false;
    $('camera').hidden = false;
    $('self').hidden = false;
  }
  $('leave').onclick = () => { ended = true; teardown(true); setStatus('ended'); };
  $('mute').onclick = () => {
    const track = localStream && localStream.getAudioTracks()[0];
    if (!track) return;
    track.enabled = !track.enabled;
    $('mute').textContent = t(track.enabled ? 'mute' : 'unmute');
  };
  $('camera').onclick = () => {
    const track = localStream && localStream.getVideoTracks()[0];
    if (!track) return;
    track.enabled = !track.enabled;
    $('camera').textContent = t(track.enabled ? 'cameraOff' : 'cameraOn');
  };
  $('sound').onclick = () => { for (const v of document.querySelectorAll('#remotes video')) v.play(); $('sound').hidden = true; };
  join(roomMatch[1], r).then(() => { if (r !== 'citizen') $('self').srcObject = localStream; })
    .catch((e) => {
      if (['NotAllowedError', 'NotFoundError', 'SecurityError'].includes(e.name)) return;
      if (e instanceof JoinRefused && !e.passing) { setStatus('failed', e.message); return; }
      scheduleReconnect({ statusKey: e instanceof JoinRefused ? e.statusKey : lostKey() });
    });
  setInterval(updateQuality, 1000);
  const reportURL = params.get('report');
  if (reportURL) setInterval(() => report(reportURL), 1000);
  window.addEventListener('pagehide', () => teardown(true));
}

function startLanding() {
  $('landing').hidden = false;
  $('lang-switch').textContent = lang === 'da' ? 'English' : 'Dansk';
  $('lang-switch').onclick = (e) => { e.preventDefault(); lang = lang === 'da' ? 'en' : 'da'; applyText(); $('lang-switch').textContent = lang === 'da' ? 'English' : 'Dansk'; };
  $('join-form').onsubmit = (e) => {
    e.preventDefault();
    const room = $('room').value.trim();
    const chosen = new FormData(e.target).get('role');
    location.href = `/r/${encodeURIComponent(room)}?role=${chosen}${lang === 'en' ? '&lang=en' : ''}`;
  };
}

applyText();
if (roomMatch) startVisit(); else startLanding();
