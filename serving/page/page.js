// The drawing page: collects strokes or an uploaded picture and posts it to /page/predict.
// Turning the picture into the model's input happens on the server (serving/image_input.py),
// so this file only draws, sends a PNG and shows the answer.
'use strict';

(() => {
  const pad = document.getElementById('pad');
  const pen = pad.getContext('2d');
  const statusLine = document.getElementById('status');
  const result = document.getElementById('result');
  // A stroke a tenth of the pad wide is about as thick, relative to the digit, as the strokes of
  // the training digits once the server scales the drawing down.
  const PEN_WIDTH = pad.width / 10;
  let stroke = null;
  let hasInk = false;

  function clearPad() {
    pen.fillStyle = '#ffffff';
    pen.fillRect(0, 0, pad.width, pad.height);
    hasInk = false;
    result.hidden = true;
    showStatus('');
  }

  function showStatus(text, isError = false) {
    statusLine.textContent = text;
    statusLine.classList.toggle('error', isError);
  }

  function padPoint(event) {
    const box = pad.getBoundingClientRect();
    return {
      x: (event.clientX - box.left) * (pad.width / box.width),
      y: (event.clientY - box.top) * (pad.height / box.height),
    };
  }

  function drawSegment(from, to) {
    pen.strokeStyle = '#111111';
    pen.lineWidth = PEN_WIDTH;
    pen.lineCap = 'round';
    pen.lineJoin = 'round';
    pen.beginPath();
    pen.moveTo(from.x, from.y);
    pen.lineTo(to.x, to.y);
    pen.stroke();
    hasInk = true;
  }

  pad.addEventListener('pointerdown', (event) => {
    event.preventDefault();
    pad.setPointerCapture(event.pointerId);
    stroke = padPoint(event);
    drawSegment(stroke, stroke);
  });

  pad.addEventListener('pointermove', (event) => {
    if (stroke === null) {
      return;
    }
    const next = padPoint(event);
    drawSegment(stroke, next);
    stroke = next;
  });

  for (const type of ['pointerup', 'pointercancel']) {
    pad.addEventListener(type, () => {
      stroke = null;
    });
  }

  async function predict() {
    if (!hasInk) {
      showStatus('Draw a digit or upload a picture first.', true);
      return;
    }
    showStatus('Asking the model…');
    try {
      const response = await fetch('/page/predict', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ image: pad.toDataURL('image/png') }),
      });
      const answer = await response.json();
      if (!response.ok) {
        showStatus(answer.error || `The server answered ${response.status}.`, true);
        return;
      }
      showAnswer(answer);
      showStatus('');
    } catch (error) {
      showStatus(`The server could not be reached: ${error.message}`, true);
    }
  }

  function showAnswer(answer) {
    const list = document.getElementById('top-classes');
    list.replaceChildren();
    for (const entry of answer.top_classes) {
      const percent = (100 * entry.probability).toFixed(1);
      const item = document.createElement('li');
      const digit = document.createElement('span');
      digit.className = 'digit';
      digit.textContent = entry.class;
      const bar = document.createElement('span');
      bar.className = 'bar';
      const fill = document.createElement('span');
      fill.style.width = `${percent}%`;
      bar.append(fill);
      const probability = document.createElement('span');
      probability.className = 'probability';
      probability.textContent = `${percent}%`;
      item.append(digit, bar, probability);
      list.append(item);
    }
    document.getElementById('model-name').textContent = answer.model_name;
    document.getElementById('model-version').textContent = answer.model_version;
    drawModelInput(answer.input);
    result.hidden = false;
  }

  // Shows the grid the model received, ink light on dark as in the training data.
  function drawModelInput(input) {
    const view = document.getElementById('model-input');
    const context = view.getContext('2d');
    const cell = Math.floor(view.width / Math.max(input.width, input.height));
    const range = input.pixel_max - input.pixel_min;
    context.clearRect(0, 0, view.width, view.height);
    input.pixels.forEach((value, index) => {
      const level = Math.round((255 * (value - input.pixel_min)) / range);
      context.fillStyle = `rgb(${level}, ${level}, ${level})`;
      const row = Math.floor(index / input.width);
      const column = index % input.width;
      context.fillRect(column * cell, row * cell, cell, cell);
    });
  }

  async function upload(file) {
    try {
      const picture = await createImageBitmap(file);
      clearPad();
      // A transparent ground stays transparent; the server tells ink from ground either way.
      pen.clearRect(0, 0, pad.width, pad.height);
      const scale = Math.min(pad.width / picture.width, pad.height / picture.height);
      const width = picture.width * scale;
      const height = picture.height * scale;
      pen.drawImage(picture, (pad.width - width) / 2, (pad.height - height) / 2, width, height);
      hasInk = true;
      await predict();
    } catch (error) {
      showStatus(`That file could not be read as an image: ${error.message}`, true);
    }
  }

  document.getElementById('predict').addEventListener('click', predict);
  document.getElementById('clear').addEventListener('click', clearPad);
  document.getElementById('upload').addEventListener('change', (event) => {
    const [file] = event.target.files;
    if (file) {
      upload(file);
    }
    event.target.value = '';
  });

  clearPad();
})();
