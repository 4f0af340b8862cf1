// Run in a page by tests/test_design.py. `phone`: the width at which targets must be 44 px (0: none).
// Returns the layout's width, how many texts were read, the faint ones (contrast under 4.5:1, WCAG
// relative luminance against the background they are drawn on) and the targets too small.
(phone) => {
  const rgba = (text) => {
    const found = text.match(/rgba?\(([^)]+)\)/);
    if (!found) return [0, 0, 0, 0];
    const parts = found[1].split(/[\s,\/]+/).filter(Boolean).map(parseFloat);
    return [parts[0], parts[1], parts[2], parts.length > 3 ? parts[3] : 1];
  };
  const over = (top, below) => {  // a colour with alpha laid over an opaque one
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + below[i] * (1 - a)).concat([1]);
  };
  const luminance = (c) => {
    const channel = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * channel(c[0]) + 0.7152 * channel(c[1]) + 0.0722 * channel(c[2]);
  };
  const dark = matchMedia("(prefers-color-scheme: dark)").matches;
  const canvas = dark ? [18, 18, 18, 1] : [255, 255, 255, 1];
  const background = (element) => {  // the backgrounds behind it, laid over each other
    const layers = [];
    for (let e = element; e; e = e.parentElement) {
      const colour = rgba(getComputedStyle(e).backgroundColor);
      if (colour[3] > 0) layers.push(colour);
      if (colour[3] >= 1) break;
    }
    return layers.reverse().reduce((below, top) => over(top, below), canvas);
  };
  const ratio = (a, b) => {
    const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05);
  };
  const faint = [];
  let texts = 0;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const element = node.parentElement;
    if (!node.textContent.trim() || !element) continue;
    if (!element.checkVisibility({ opacityProperty: true, visibilityProperty: true })) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const box = range.getBoundingClientRect();
    if (box.width < 1 || box.height < 1 || parseFloat(getComputedStyle(element).fontSize) < 2) continue;
    texts += 1;
    const behind = background(element);
    const contrast = ratio(over(rgba(getComputedStyle(element).color), behind), behind);
    if (contrast < 4.5) {
      faint.push({ text: node.textContent.trim().slice(0, 40), contrast: Math.round(contrast * 100) / 100,
                   color: getComputedStyle(element).color, background: `rgb(${behind.slice(0, 3).join(",")})` });
    }
  }
  const small = [];
  if (phone) {
    const targets = document.querySelectorAll("a[href], button, input:not([type=hidden]), select, textarea");
    for (const target of targets) {
      if (!target.checkVisibility({ opacityProperty: true, visibilityProperty: true })) continue;
      const box = target.getBoundingClientRect();
      if (box.width < 43.5 || box.height < 43.5) {
        small.push({ text: (target.textContent || target.name || target.tagName).trim().slice(0, 40),
                     width: Math.round(box.width), height: Math.round(box.height) });
      }
    }
  }
  return { width: document.documentElement.scrollWidth, texts, faint, small };
}
