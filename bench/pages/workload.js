// Workloads drawn on the host's X display by a full-screen Chromium. Every animation frame repaints
// the timestamp strip with Date.now(), so the viewer can tell when that frame reached it.
// ?w=typing|scroll|drag|video|doc-slow|doc-fast|drag-textured|code|sheet|slideshow|still
// benchStop() freezes the page (its animation and timers) so a test can compare a still picture.
(function () {
  const params = new URLSearchParams(location.search);
  const kind = params.get('w') ?? 'still';
  const strip = document.getElementById('strip').getContext('2d');
  let running = true;
  /** setTimeout that stops with benchStop(). */
  const later = (fn, ms) => setTimeout(() => running && fn(), ms);

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
        later(type, 60 + rand() * 80);
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
    // A code editor (dark theme, highlighted TypeScript, line numbers): someone types ~10 characters a
    // second, Enter pushes every line below down by one, the cursor blinks, and every 3 s the view
    // scrolls 8-20 lines smoothly (a wheel flick), up or down.
    code() {
      const ed = document.createElement('div');
      ed.className = 'editor';
      ed.innerHTML = '<div class="tabs"><span class="on">TileEncoder.ts</span><span>motion.ts</span><span>README.md</span></div><div class="view"><div class="lines"></div></div><div class="status">Ln 1, Col 1 · Spaces: 2 · UTF-8 · TypeScript</div>';
      document.body.append(ed);
      const view = ed.querySelector('.view'), lines = ed.querySelector('.lines'), status = ed.querySelector('.status');
      const KW = ['const', 'let', 'return', 'if', 'for', 'await', 'new', 'export', 'function', 'async', 'else', 'of'];
      const id = () => WORDS[Math.floor(rand() * WORDS.length)] + (rand() < 0.4 ? WORDS[Math.floor(rand() * WORDS.length)].replace(/^./, (c) => c.toUpperCase()) : '');
      const esc = (t) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;');
      // Highlight one line of our pseudo-TypeScript with a small tokenizer (comments, strings, numbers, keywords, calls).
      const highlight = (t) =>
        esc(t).replace(/(\/\/.*$)|('[^']*'?)|(\b\d+(?:\.\d+)?\b)|(\b[A-Za-z_]\w*\b)(\s*\()?/g, (m, com, str, num, word, call) => {
          if (com) return `<i class="c">${com}</i>`;
          if (str) return `<b class="s">${str}</b>`;
          if (num) return `<b class="n">${num}</b>`;
          if (KW.includes(word)) return `<b class="k">${word}</b>${call ?? ''}`;
          return call ? `<b class="f">${word}</b>${call}` : `<b class="v">${word}</b>`;
        });
      const source = () => {
        const r = rand(), ind = '  '.repeat(1 + Math.floor(rand() * 3));
        if (r < 0.12) return `${ind}// ${words(6 + Math.floor(rand() * 6))}`;
        if (r < 0.2) return '';
        if (r < 0.28) return `export async function ${id()}(${id()}, ${id()}) {`;
        if (r < 0.36) return `${ind}if (${id()}.${id()} > ${Math.floor(rand() * 900)}) return ${id()};`;
        if (r < 0.42) return `${ind}}`;
        if (r < 0.5) return `${ind}for (const ${id()} of ${id()}.${id()}()) ${id()}.push(${id()});`;
        return `${ind}const ${id()} = await ${id()}.${id()}(${Math.floor(rand() * 64)}, '${words(2)}');`;
      };
      const row = (text) => {
        const d = document.createElement('div');
        d.className = 'ln';
        d.innerHTML = highlight(text);
        d.dataset.text = text;
        return d;
      };
      for (let i = 0; i < 1500; i++) lines.append(row(source()));
      const LINE = 21;
      let cur = 20, col = 0;
      let typed = source().trimStart();
      const place = () => {
        for (const el of lines.querySelectorAll('.cur')) el.classList.remove('cur');
        lines.children[cur].classList.add('cur');
        status.textContent = `Ln ${cur + 1}, Col ${col + 1} · Spaces: 2 · UTF-8 · TypeScript`;
      };
      place();
      const type = () => {
        const line = lines.children[cur];
        if (col >= typed.length) {
          // Enter: a new line below; everything under it moves down by one line.
          cur++;
          col = 0;
          typed = source().trimStart();
          lines.insertBefore(row('  '), lines.children[cur]);
          place();
        } else {
          const text = line.dataset.text + typed[col++];
          line.dataset.text = text;
          line.innerHTML = highlight(text);
          status.textContent = `Ln ${cur + 1}, Col ${col + 1} · Spaces: 2 · UTF-8 · TypeScript`;
        }
        later(type, 60 + rand() * 80);
      };
      type();
      const blink = () => {
        ed.classList.toggle('blink');
        later(blink, 530);
      };
      blink();
      let from = 0, to = 0, t = 1, since = 0;
      return (dt) => {
        since += dt;
        if (since > 3000) {
          since = 0;
          from = view.scrollTop;
          const n = 8 + Math.floor(rand() * 13);
          to = Math.max(0, Math.min(view.scrollHeight - view.clientHeight, from + (rand() < 0.7 ? 1 : -1) * n * LINE));
          t = 0;
        }
        if (t < 1) {
          t = Math.min(1, t + dt / 250);
          view.scrollTop = Math.round(from + (to - from) * (1 - (1 - t) ** 3));
          // The cursor follows the view: keep it on its screen line.
          if (t === 1) {
            cur = Math.min(lines.children.length - 2, Math.floor(view.scrollTop / LINE) + 14);
            col = 0;
            typed = source().trimStart();
            lines.children[cur].dataset.text = typed.match(/^\s*/)[0];
            place();
          }
        }
      };
    },
    // A spreadsheet: frozen header row and column, numbers with conditional colours and a sum column.
    // Someone enters data (the selection moves every 200 ms, each cell left gets a new value and the
    // row's sum changes) and every 2.5 s the sheet scrolls down 3 rows (a jump, as spreadsheets scroll).
    sheet() {
      const COLS = 18, ROWS = 120, H = 24;
      const wrap = document.createElement('div');
      wrap.className = 'sheet';
      wrap.innerHTML = '<div class="bar"><b>File</b> <b>Edit</b> <b>View</b> <b>Insert</b> <b>Format</b> <b>Data</b></div><div class="fx"><span class="ref">B2</span><span class="val"></span></div><div class="grid"></div>';
      document.body.append(wrap);
      const grid = wrap.querySelector('.grid'), ref = wrap.querySelector('.ref'), val = wrap.querySelector('.val');
      const letter = (c) => String.fromCharCode(65 + c);
      const value = () => (rand() < 0.15 ? words(1) : Math.floor(rand() * 1000));
      const cls = (v) => (typeof v === 'number' ? (v > 850 ? 'hi' : v < 120 ? 'lo' : 'num') : '');
      let html = '<table><tr><th></th>';
      for (let c = 0; c < COLS; c++) html += `<th>${c === COLS - 1 ? 'SUM' : letter(c)}</th>`;
      html += '</tr>';
      const data = [];
      for (let r = 0; r < ROWS; r++) {
        const vals = Array.from({ length: COLS - 1 }, value);
        data.push(vals);
        html += `<tr><th>${r + 1}</th>`;
        for (const v of vals) html += `<td class="${cls(v)}">${v}</td>`;
        html += `<td class="sum">${vals.reduce((a, v) => a + (typeof v === 'number' ? v : 0), 0)}</td></tr>`;
      }
      grid.innerHTML = html + '</table>';
      const table = grid.querySelector('table');
      const cell = (r, c) => table.rows[r + 1].cells[c + 1];
      let r = 1, c = 1, top = 0;
      const select = () => {
        for (const el of table.querySelectorAll('.sel')) el.classList.remove('sel');
        cell(r, c).classList.add('sel');
        table.rows[r + 1].cells[0].classList.add('sel');
        table.rows[0].cells[c + 1].classList.add('sel');
        ref.textContent = `${letter(c)}${r + 1}`;
        val.textContent = String(data[r][c]);
      };
      select();
      const enter = () => {
        const v = value();
        data[r][c] = v;
        const td = cell(r, c);
        td.textContent = String(v);
        td.className = cls(v);
        cell(r, COLS - 1).textContent = String(data[r].reduce((a, v) => a + (typeof v === 'number' ? v : 0), 0));
        c++;
        if (c > 8) {
          c = 1;
          r++;
          // Keep the row being entered in view.
          if ((r + 1) * H > grid.scrollTop + grid.clientHeight - 2 * H) grid.scrollTop += 3 * H;
        }
        select();
        later(enter, 200);
      };
      later(enter, 200);
      let since = 0;
      return (dt) => {
        since += dt;
        if (since < 2500) return;
        since = 0;
        top = (top + 3) % (ROWS - 45);
        grid.scrollTop = top * H;
        if (r < top + 1 || r > top + 30) {
          r = top + 4;
          c = 1;
          select();
        }
      };
    },
    // A photo slideshow: a 1600x900 photo shown 2.5 s, then a 600 ms crossfade to the next.
    slideshow() {
      const show = document.createElement('div');
      show.className = 'slides';
      const pics = Array.from({ length: 5 }, (_, i) => picture(1600, 900, i + 11));
      show.innerHTML = `<img class="a" src="${pics[0]}"><img class="b" src="${pics[1]}" style="opacity:0"><div class="cap"></div>`;
      document.body.append(show);
      const [a, b] = show.querySelectorAll('img');
      const cap = show.querySelector('.cap');
      let i = 0, t = 0;
      cap.textContent = `1 / ${pics.length} · ${words(3)}`;
      return (dt) => {
        t += dt;
        if (t < 2500) return;
        const f = Math.min(1, (t - 2500) / 600);
        b.style.opacity = String(f);
        if (f < 1) return;
        // The next photo is on top: it becomes the bottom one, and the one after waits on top, hidden.
        i = (i + 1) % pics.length;
        a.src = pics[i];
        b.style.opacity = '0';
        b.src = pics[(i + 1) % pics.length];
        cap.textContent = `${i + 1} / ${pics.length} · ${words(3)}`;
        t = 0;
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

  globalThis.benchStop = () => {
    running = false;
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
    if (!running) return;
    globalThis.benchFrames++;
    step(now - last);
    last = now;
    BenchStrip.draw(strip, Date.now());
    requestAnimationFrame(frame);
  }
  requestAnimationFrame(frame);
  globalThis.benchReady = true;
})();
