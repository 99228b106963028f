// The process modeler: edit with bpmn-js, save through the same deploy checks; a refusal highlights its element.
(async function () {
  const box = document.getElementById("modeler");
  const result = document.getElementById("deploy-result");
  const modeler = new window.BpmnJS({container: box});
  const source = await fetch(box.dataset.source, {credentials: "same-origin"});
  await modeler.importXML(await source.text());
  modeler.get("canvas").zoom("fit-viewport");
  let marked = null;

  document.getElementById("save").addEventListener("click", async () => {
    const canvas = modeler.get("canvas");
    if (marked) { canvas.removeMarker(marked, "deploy-error"); marked = null; }
    const {xml} = await modeler.saveXML({format: true});
    const response = await fetch(box.dataset.deploy, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": box.dataset.csrf},
      body: JSON.stringify({filename: box.dataset.filename, xml}),
    });
    const answer = await response.json();
    if (answer.ok) {
      result.textContent = answer.deployed.map((d) => d.message).join("；");
    } else {
      result.textContent = `部署失败：${answer.message}`;
      if (answer.element && modeler.get("elementRegistry").get(answer.element)) {
        marked = answer.element;
        canvas.addMarker(marked, "deploy-error");
      }
    }
  });
})();
