// Formatting helpers shared by the scripts and the UI.

/**
 * Formats an amount in cents as a price, e.g. 4999 -> "$49.99".
 * @param {number} cents
 * @param {string} [currency]
 */
function formatPrice(cents, currency = 'USD') {
  return new Intl.NumberFormat('en-US', { style: 'currency', currency }).format(cents / 100);
}

/**
 * Pads a label to a fixed width so columns line up in plain-text reports.
 * @param {string} label
 * @param {number} width
 */
function padLabel(label, width) {
  return label.length >= width ? label.slice(0, width) : label + ' '.repeat(width - label.length);
}

/** @param {Date} date */
function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

module.exports = { formatPrice, padLabel, isoDay };
