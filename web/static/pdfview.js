// Draws every .pdf-view of the page with pdf.js: each page of the PDF at data-src becomes a canvas as wide as
// the container (sharp on high-density screens), named for screen readers "公文 第 1 页，共 3 页". pdf.js's
// legacy build is used because phone browsers and WeChat-style web views lag behind desktop Chromium.
const views = document.querySelectorAll(".pdf-view[data-src]");

async function draw(pdfjs, view) {
  const status = view.querySelector(".pdf-status");
  const pdf = await pdfjs.getDocument({ url: view.dataset.src, isEvalSupported: false }).promise;
  const ratio = window.devicePixelRatio || 1;
  for (let number = 1; number <= pdf.numPages; number += 1) {
    const page = await pdf.getPage(number);
    const scale = view.clientWidth / page.getViewport({ scale: 1 }).width;
    const viewport = page.getViewport({ scale: scale * ratio });
    const canvas = document.createElement("canvas");
    canvas.width = Math.floor(viewport.width);
    canvas.height = Math.floor(viewport.height);
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", `${view.dataset.name} 第 ${number} 页，共 ${pdf.numPages} 页`);
    view.append(canvas);
    await page.render({ canvas, canvasContext: canvas.getContext("2d"), viewport }).promise;
  }
  status.remove();
  view.dataset.drawn = String(pdf.numPages);
}

if (views.length) {
  try {
    const pdfjs = await import(views[0].dataset.lib);
    pdfjs.GlobalWorkerOptions.workerSrc = views[0].dataset.worker;
    await Promise.all([...views].map((view) => draw(pdfjs, view).catch(() => {
      view.querySelector(".pdf-status").textContent = "PDF 未能在页面中显示，请点上方链接在新窗口打开。";
    })));
  } catch {
    views.forEach((view) => {
      view.querySelector(".pdf-status").textContent = "PDF 未能在页面中显示，请点上方链接在新窗口打开。";
    });
  }
}
