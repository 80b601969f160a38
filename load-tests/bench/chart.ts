/** The benchmark's chart: an SVG of grouped bars, drawn to PNG by headless Chromium (Debian's, through playwright-core). */
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

export interface BarGroup {
  label: string;
  values: { series: string; value: number }[];
}

const COLOURS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759'];

function svg(title: string, unit: string, groups: BarGroup[]): string {
  const width = 900;
  const height = 420;
  const left = 70;
  const bottom = 70;
  const top = 50;
  const series = [...new Set(groups.flatMap((group) => group.values.map((value) => value.series)))];
  const max = Math.max(...groups.flatMap((group) => group.values.map((value) => value.value))) * 1.15 || 1;
  const plotHeight = height - top - bottom;
  const groupWidth = (width - left - 20) / groups.length;
  const barWidth = (groupWidth * 0.8) / series.length;
  const y = (value: number) => top + plotHeight - (value / max) * plotHeight;
  const parts = [`<text x="${width / 2}" y="28" text-anchor="middle" font-size="18" font-weight="bold">${title}</text>`];
  for (let tick = 0; tick <= 4; tick++) {
    const value = (max / 4) * tick;
    parts.push(`<line x1="${left}" x2="${width - 20}" y1="${y(value)}" y2="${y(value)}" stroke="#ddd"/>`, `<text x="${left - 8}" y="${y(value) + 4}" text-anchor="end" font-size="12">${value.toFixed(value < 10 ? 2 : 0)}</text>`);
  }
  parts.push(`<text x="18" y="${top + plotHeight / 2}" transform="rotate(-90 18 ${top + plotHeight / 2})" text-anchor="middle" font-size="13">${unit}</text>`);
  groups.forEach((group, groupIndex) => {
    const x0 = left + groupIndex * groupWidth + groupWidth * 0.1;
    group.values.forEach((value) => {
      const index = series.indexOf(value.series);
      const x = x0 + index * barWidth;
      parts.push(
        `<rect x="${x}" y="${y(value.value)}" width="${barWidth - 4}" height="${top + plotHeight - y(value.value)}" fill="${COLOURS[index % COLOURS.length]}"/>`,
        `<text x="${x + (barWidth - 4) / 2}" y="${y(value.value) - 4}" text-anchor="middle" font-size="11">${value.value.toFixed(value.value < 10 ? 2 : 0)}</text>`,
      );
    });
    parts.push(`<text x="${x0 + (groupWidth * 0.8) / 2}" y="${height - bottom + 20}" text-anchor="middle" font-size="13">${group.label}</text>`);
  });
  series.forEach((name, index) => {
    const x = left + index * 200;
    parts.push(`<rect x="${x}" y="${height - 28}" width="14" height="14" fill="${COLOURS[index % COLOURS.length]}"/>`, `<text x="${x + 20}" y="${height - 16}" font-size="13">${name}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, sans-serif"><rect width="100%" height="100%" fill="white"/>${parts.join('')}</svg>`;
}

/** Writes the chart to `path`; false (and nothing written) when there is no Chromium to draw it. */
export async function drawChart(path: string, title: string, unit: string, groups: BarGroup[], executablePath = '/usr/bin/chromium'): Promise<boolean> {
  if (!existsSync(executablePath)) return false;
  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 900, height: 420 } });
    await page.setContent(`<body style="margin:0">${svg(title, unit, groups)}</body>`);
    await page.screenshot({ path, clip: { x: 0, y: 0, width: 900, height: 420 } });
    return true;
  } finally {
    await browser.close();
  }
}
