// Computed in the page: each visible text's contrast against the first opaque background behind
// it (WCAG's relative luminance), the links and buttons under 44 px high (both inside the element
// `root` selects), and how far
// the page overflows sideways. Read by the browser tests.
(root) => {
  const rgb = (text) => (text.match(/[\d.]+/g) || []).map(Number);
  const channel = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  const lum = ([r, g, b]) => [r, g, b].map(channel)
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const behind = (el) => { for (; el; el = el.parentElement) { const c = rgb(getComputedStyle(el).backgroundColor);
    if (c.length === 3 || c[3] > 0) return c.slice(0, 3); } return [255, 255, 255]; };
  const low = [];
  const walker = document.createTreeWalker(document.querySelector(root), NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!node.textContent.trim() || !el.getClientRects().length || getComputedStyle(el).display === "none") continue;
    const [a, b] = [lum(rgb(getComputedStyle(el).color)), lum(behind(el))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) low.push(node.textContent.trim().slice(0, 40) + " " + ratio.toFixed(2));
  }
  const small = [...document.querySelector(root).querySelectorAll("a, button")].filter((el) => el.getClientRects().length)
    .filter((el) => el.getBoundingClientRect().height < 44).map((el) => el.textContent.trim().slice(0, 40));
  return {overflow: document.documentElement.scrollWidth - innerWidth, low, small};
}
