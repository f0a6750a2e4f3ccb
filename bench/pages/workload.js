// Workloads drawn on the host's X display by a full-screen Chromium. Every animation frame repaints
// the timestamp strip with Date.now(), so the viewer can tell when that frame reached it.
// ?w=typing|scroll|drag|video|doc-slow|doc-fast|drag-textured|still
(function () {
  const params = new URLSearchParams(location.search);
  const kind = params.get('w') ?? 'still';
  const strip = document.getElementById('strip').getContext('2d');

  // Deterministic text so every run draws the same pixels.
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const WORDS = 'the of and to in is that for it as with was on be by this are or from at which an not have has but all can were one their more also its other into some these time than only two may first then when any use such new like between over after how most where most system screen share viewer remote control latency frame pixel tile encoder display server agent conference window keyboard pointer'.split(' ');
  const words = (n) => Array.from({ length: n }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(' ');
  const sentence = () => { const s = words(8 + Math.floor(rand() * 14)); return s[0].toUpperCase() + s.slice(1) + '.'; };

  function desktop() {
    const desk = document.createElement('div');
    desk.className = 'desk';
    const colors = ['#e57373', '#64b5f6', '#81c784', '#ffb74d', '#ba68c8', '#4db6ac'];
    for (let i = 0; i < 8; i++) {
      const icon = document.createElement('div');
      icon.className = 'icon';
      icon.style.left = '24px';
      icon.style.top = `${110 + i * 100}px`;
      icon.innerHTML = `<i style="background:${colors[i % colors.length]}"></i>${WORDS[i * 7 % WORDS.length]}.txt`;
      desk.append(icon);
    }
    const win = document.createElement('div');
    win.className = 'win';
    Object.assign(win.style, { left: '1180px', top: '560px', width: '640px', height: '420px' });
    win.innerHTML = `<div class="title">notes.txt</div><div class="body">${Array.from({ length: 14 }, sentence).join('\n')}</div>`;
    desk.append(win);
    document.body.append(desk);
  }

  /** A deterministic photo-like picture (gradients, soft blobs and grain) as a data URL. */
  function picture(w, h, variant) {
    const c = Object.assign(document.createElement('canvas'), { width: w, height: h });
    const ctx = c.getContext('2d');
    const g = ctx.createLinearGradient(0, 0, w, h);
    g.addColorStop(0, `hsl(${(variant * 47) % 360},60%,${35 + (variant % 3) * 10}%)`);
    g.addColorStop(1, `hsl(${(variant * 47 + 150) % 360},55%,70%)`);
    ctx.fillStyle = g;
    ctx.fillRect(0, 0, w, h);
    for (let k = 0; k < 14; k++) {
      const x = rand() * w, y = rand() * h, r = 10 + rand() * Math.max(w, h) * 0.25;
      const rg = ctx.createRadialGradient(x, y, 0, x, y, r);
      rg.addColorStop(0, `hsla(${Math.floor(rand() * 360)},70%,60%,0.7)`);
      rg.addColorStop(1, 'hsla(0,0%,50%,0)');
      ctx.fillStyle = rg;
      ctx.fillRect(0, 0, w, h);
    }
    const img = ctx.getImageData(0, 0, w, h);
    for (let i = 0; i < img.data.length; i += 4) {
      const n = (rand() - 0.5) * 28;
      img.data[i] += n;
      img.data[i + 1] += n;
      img.data[i + 2] += n;
    }
    ctx.putImageData(img, 0, 0);
    return c.toDataURL('image/png');
  }

  /** The long rich document of the doc-* workloads, scrolled at `speed` px/ms. */
  function richDocument(speed) {
    const sc = document.createElement('div');
    sc.id = 'scroller';
    sc.className = 'rich';
    const page = document.createElement('div');
    page.className = 'page';
    const pics = Array.from({ length: 6 }, (_, i) => picture(480, 270, i + 3));
    let html = '';
    for (let s = 0; s < 120; s++) {
      html += `<h2 style="background:linear-gradient(90deg,hsl(${(s * 37) % 360},55%,88%),#fff)">${s + 1}. ${words(4)}</h2>`;
      html += `<p>${Array.from({ length: 4 }, sentence).join(' ')}</p>`;
      if (s % 2 === 0) html += `<figure><img src="${pics[s % pics.length]}" width="480" height="270"><figcaption>Figure ${s / 2 + 1}: ${words(6)}</figcaption></figure>`;
      if (s % 3 === 0) {
        html += '<table><tr><th>item</th><th>owner</th><th>status</th><th>estimate</th><th>change</th></tr>';
        for (let r = 0; r < 6; r++) html += `<tr><td>${words(2)}</td><td>${words(1)}</td><td>${rand() < 0.5 ? 'open' : 'done'}</td><td>${(rand() * 40).toFixed(1)} h</td><td>${rand() < 0.5 ? '+' : '−'}${(rand() * 20).toFixed(1)}%</td></tr>`;
        html += '</table>';
      }
      html += `<p>${Array.from({ length: 5 }, sentence).join(' ')}</p>`;
    }
    page.innerHTML = html;
    sc.append(page);
    document.body.append(sc);
    let pos = 0;
    return (dt) => {
      pos += speed * dt;
      if (pos > sc.scrollHeight - 1200) pos = 0;
      sc.scrollTop = Math.round(pos);
    };
  }

  const workloads = {
    // Someone typing ~10 characters a second into a text area.
    typing() {
      const ta = document.createElement('textarea');
      ta.spellcheck = false;
      document.body.append(ta);
      ta.focus();
      const text = Array.from({ length: 400 }, sentence).join(' ');
      let i = 0;
      const type = () => {
        if (ta.value.length > 2400) ta.value = '';
        ta.value += text[i++ % text.length];
        setTimeout(type, 60 + rand() * 80);
      };
      type();
      return () => {};
    },
    // A long document scrolled continuously at 240 px/s.
    scroll() {
      const sc = document.createElement('div');
      sc.id = 'scroller';
      const page = document.createElement('div');
      page.className = 'page';
      let html = '';
      for (let s = 0; s < 300; s++) {
        html += `<h2>${s + 1}. ${words(4)}</h2>`;
        for (let p = 0; p < 3; p++) html += `<p>${Array.from({ length: 5 }, sentence).join(' ')}</p>`;
      }
      page.innerHTML = html;
      sc.append(page);
      document.body.append(sc);
      let pos = 0;
      return (dt) => {
        pos += 0.24 * dt;
        if (pos > sc.scrollHeight - 1200) pos = 0;
        sc.scrollTop = Math.round(pos);
      };
    },
    // A long document as people share it: headings, paragraphs, tables, pictures and gradient banners,
    // scrolled at a reading pace (120 px/s) or skimmed (720 px/s).
    'doc-slow': () => richDocument(0.12),
    'doc-fast': () => richDocument(0.72),
    // A window with a textured title bar and a picture in it, dragged along a figure-eight (~600 px/s).
    'drag-textured'() {
      desktop();
      const win = document.createElement('div');
      win.className = 'win';
      Object.assign(win.style, { width: '720px', height: '480px', left: '0px', top: '0px' });
      win.innerHTML = `<div class="title textured" style="background-image:linear-gradient(rgba(40,70,110,.55),rgba(20,40,70,.75)),url(${picture(256, 28, 1)})">Photos — holiday.jpg</div><img src="${picture(720, 300, 2)}" width="720" height="300" style="display:block"><div class="body">${Array.from({ length: 5 }, sentence).join('\n')}</div>`;
      document.body.append(win);
      let a = 0;
      return (dt) => {
        a += (dt / 1000) * 0.8;
        win.style.left = `${Math.round(600 + 560 * Math.sin(a))}px`;
        win.style.top = `${Math.round(300 + 260 * Math.sin(2 * a))}px`;
      };
    },
    // A window dragged around the desktop (an ellipse, ~500 px/s).
    drag() {
      desktop();
      const win = document.createElement('div');
      win.className = 'win';
      Object.assign(win.style, { width: '640px', height: '440px', left: '0px', top: '0px' });
      win.innerHTML = `<div class="title">Dragged window</div><div class="body">${Array.from({ length: 16 }, sentence).join('\n')}</div>`;
      document.body.append(win);
      let a = 0;
      return (dt) => {
        a += (dt / 1000) * 0.75;
        win.style.left = `${Math.round(640 + 560 * Math.cos(a))}px`;
        win.style.top = `${Math.round(320 + 260 * Math.sin(a))}px`;
      };
    },
    // Video-like motion: a 1280x720 canvas animating gradients, shapes and noise every frame.
    video() {
      desktop();
      const cv = document.createElement('canvas');
      cv.id = 'video';
      cv.width = 1280;
      cv.height = 720;
      document.body.append(cv);
      const ctx = cv.getContext('2d');
      const noise = document.createElement('canvas');
      noise.width = noise.height = 256;
      const nctx = noise.getContext('2d');
      const img = nctx.createImageData(256, 256);
      for (let i = 0; i < img.data.length; i += 4) {
        const v = Math.floor(rand() * 255);
        img.data[i] = img.data[i + 1] = img.data[i + 2] = v;
        img.data[i + 3] = 255;
      }
      nctx.putImageData(img, 0, 0);
      const pattern = ctx.createPattern(noise, 'repeat');
      let t = 0;
      return (dt) => {
        t += dt / 1000;
        const g = ctx.createLinearGradient(640 + 600 * Math.cos(t), 360 + 300 * Math.sin(t * 0.7), 640 - 600 * Math.cos(t), 360 - 300 * Math.sin(t * 0.7));
        g.addColorStop(0, `hsl(${(t * 60) % 360},80%,50%)`);
        g.addColorStop(0.5, `hsl(${(t * 60 + 120) % 360},70%,40%)`);
        g.addColorStop(1, `hsl(${(t * 60 + 240) % 360},80%,55%)`);
        ctx.globalAlpha = 1;
        ctx.fillStyle = g;
        ctx.fillRect(0, 0, 1280, 720);
        for (let k = 0; k < 6; k++) {
          ctx.fillStyle = `hsla(${(k * 60 + t * 90) % 360},90%,60%,0.8)`;
          ctx.beginPath();
          ctx.arc(640 + 500 * Math.sin(t * (0.5 + k * 0.13) + k), 360 + 280 * Math.cos(t * (0.7 + k * 0.11) + k * 2), 60 + 20 * k, 0, Math.PI * 2);
          ctx.fill();
        }
        ctx.globalAlpha = 0.3;
        ctx.save();
        ctx.translate(-Math.floor(rand() * 256), -Math.floor(rand() * 256));
        ctx.fillStyle = pattern;
        ctx.fillRect(0, 0, 1280 + 256, 720 + 256);
        ctx.restore();
      };
    },
    // A rich, perfectly still screen (late-joiner test).
    still() {
      desktop();
      const win = document.createElement('div');
      win.className = 'win';
      Object.assign(win.style, { width: '900px', height: '700px', left: '300px', top: '120px' });
      win.innerHTML = `<div class="title">report.txt</div><div class="body">${Array.from({ length: 40 }, sentence).join('\n')}</div>`;
      document.body.append(win);
      return null;
    },
    // A plain still screen for the input test: only the strip.
    blank() {
      return null;
    },
  };

  const step = workloads[kind]();
  if (!step) {
    BenchStrip.draw(strip, Date.now());
    globalThis.benchReady = true;
    return;
  }
  let last = performance.now();
  globalThis.benchFrames = 0;
  function frame(now) {
    globalThis.benchFrames++;
    step(now - last);
    last = now;
    BenchStrip.draw(strip, Date.now());
    requestAnimationFrame(frame);
  }
  requestAnimationFrame(frame);
  globalThis.benchReady = true;
})();
