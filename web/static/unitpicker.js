// 主送 / 抄送 picked from a tree of units (省, 市, 县区, 部门 under their parents) instead of a long Ctrl+click
// list: a search box, real checkboxes with labels, the unit's distribution lists as groups (ticking one ticks
// its units), and an "已选" panel with a remove button per unit. The <select multiple> stays in the form as
// the field that is posted (and works alone without JS): every tick selects its option, and a change made to
// the select (a test's select_option) shows in the tree. The server validates the picks as it always did.
(function () {
  const source = document.getElementById("unit-picker-data");
  if (!source) return;
  const data = JSON.parse(source.textContent);
  const units = new Map(data.units.map((u) => [String(u.id), u]));
  const children = new Map();  // parent's id ("" for a unit without a known parent) -> its units
  for (const unit of data.units) {
    const parent = unit.parent !== null && units.has(String(unit.parent)) ? String(unit.parent) : "";
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(unit);
  }

  function element(tag, properties, ...content) {
    const made = Object.assign(document.createElement(tag), properties || {});
    made.append(...content);
    return made;
  }

  function checkbox(id, text, hint) {
    const box = element("input", {type: "checkbox", id});
    const label = element("label", {htmlFor: id, className: "inline"}, text);
    if (hint) label.append(" ", element("span", {className: "muted"}, hint));
    return {box, item: element("li", {}, box, " ", label)};
  }

  function enhance(select) {
    const options = new Map(Array.from(select.options, (o) => [o.value, o]));
    const label = document.querySelector(`label[for="${select.id}"]`);
    const boxes = new Map();  // unit id -> its checkbox in the tree
    const groups = [];        // [checkbox, unit ids offered]
    const picker = element("fieldset", {className: "unit-picker", id: `${select.id}-picker`},
      element("legend", {}, label ? label.textContent : select.id));

    const search = element("input", {type: "search", id: `${select.id}-search`, autocomplete: "off"});
    picker.append(element("label", {htmlFor: search.id}, "搜索单位"), search);

    const offeredGroups = data.groups.map((g) => ({...g, units: g.units.map(String).filter((id) => options.has(id))}))
      .filter((g) => g.units.length);
    if (offeredGroups.length) {
      const list = element("ul", {className: "unit-groups"});
      for (const group of offeredGroups) {
        const {box, item} = checkbox(`${select.id}-group-${group.id}`, `分发名单：${group.name}`, `（${group.units.length} 个单位）`);
        box.addEventListener("change", () => {
          for (const id of group.units) options.get(id).selected = box.checked;
          changed();
        });
        groups.push([box, group.units]);
        list.append(item);
      }
      picker.append(list);
    }

    function branch(parent) {
      const list = element("ul", {className: "unit-tree"});
      for (const unit of children.get(parent) || []) {
        const id = String(unit.id);
        const below = branch(id);
        if (!options.has(id) && !below.children.length) continue;  // not offered, nothing offered under it
        let item;
        if (options.has(id)) {
          const made = checkbox(`${select.id}-unit-${id}`, unit.name, `（${unit.kind}）`);
          made.box.addEventListener("change", () => { options.get(id).selected = made.box.checked; changed(); });
          boxes.set(id, made.box);
          item = made.item;
        } else {
          item = element("li", {}, unit.name);
        }
        item.dataset.name = unit.name;
        if (below.children.length) item.append(below);
        list.append(item);
      }
      return list;
    }
    const tree = branch("");
    picker.append(tree);

    const count = element("span");
    const picked = element("ul", {className: "unit-picked"});
    picker.append(element("div", {className: "unit-picked-panel", role: "region", ariaLabel: "已选单位"},
      element("strong", {}, "已选", count), picked));

    // The select is told of every tick, so whatever listens to the form sees one change as from the select.
    function changed() {
      select.dispatchEvent(new Event("change", {bubbles: true}));
    }

    function show() {
      const chosen = Array.from(select.selectedOptions, (o) => o.value);
      for (const [id, box] of boxes) box.checked = options.get(id).selected;
      for (const [box, members] of groups) {
        const ticked = members.filter((id) => options.get(id).selected).length;
        box.checked = ticked === members.length;
        box.indeterminate = ticked > 0 && ticked < members.length;
      }
      count.textContent = `（${chosen.length}）`;
      picked.replaceChildren(...chosen.map((id) => {
        const name = options.get(id).textContent.trim();
        const remove = element("button", {type: "button", ariaLabel: `移除${name}`}, "移除");
        remove.addEventListener("click", () => { options.get(id).selected = false; changed(); search.focus(); });
        return element("li", {}, name, " ", remove);
      }));
      if (!chosen.length) picked.append(element("li", {className: "muted"}, "尚未选择"));
    }

    // A unit matching the search shows with the units above it; an empty search shows the whole tree.
    function filter(list, text) {
      let any = false;
      for (const item of list.children) {
        const below = item.querySelector(":scope > ul");
        const inside = below ? filter(below, text) : false;
        const visible = !text || item.dataset.name.includes(text) || inside;
        item.hidden = !visible;
        any = any || visible;
      }
      return any;
    }
    search.addEventListener("input", () => filter(tree, search.value.trim()));

    select.addEventListener("change", show);
    // Out of sight and out of the tab order, yet still the form's field (and a test's select_option target).
    Object.assign(select.style, {position: "absolute", width: "1px", height: "1px", overflow: "hidden",
                                 clipPath: "inset(50%)", opacity: "0"});
    select.tabIndex = -1;
    select.setAttribute("aria-hidden", "true");
    if (label) label.hidden = true;
    select.after(picker);
    show();
  }

  for (const name of data.fields) {
    const select = document.getElementById(name);
    if (select && select.multiple) enhance(select);
  }
})();
