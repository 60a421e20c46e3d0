// The document as internal/report/browser reads it once the page has
// loaded: a function of the axis selector, returning the title, the
// document's scroll size and its outermost <svg> elements (see SVG in
// browser.go).
(axisSelector) => {
	const drawless = new Set(["title", "desc", "metadata", "defs", "style", "script"]);
	const svgs = [];
	for (const svg of document.querySelectorAll("svg")) {
		if (svg.parentElement && svg.parentElement.closest("svg")) {
			continue; // inside another svg
		}
		const box = svg.getBoundingClientRect();
		let label = svg.getAttribute("aria-label") || "";
		if (!label) {
			const title = Array.from(svg.children).find((c) => c.localName === "title");
			label = title ? title.textContent.trim() : "";
		}
		let axes = 0;
		for (const a of svg.querySelectorAll(axisSelector)) {
			const r = a.getBoundingClientRect();
			if (r.width > 0 || r.height > 0) {
				axes++;
			}
		}
		svgs.push({
			id: svg.id,
			label: label,
			class: svg.getAttribute("class") || "",
			width: box.width,
			height: box.height,
			children: Array.from(svg.children).filter((c) => !drawless.has(c.localName)).length,
			axes: axes,
		});
	}
	const root = document.documentElement;
	return {
		title: document.title,
		width: Math.ceil(Math.max(root.scrollWidth, document.body ? document.body.scrollWidth : 0)),
		height: Math.ceil(Math.max(root.scrollHeight, document.body ? document.body.scrollHeight : 0)),
		svgs: svgs,
	};
}
