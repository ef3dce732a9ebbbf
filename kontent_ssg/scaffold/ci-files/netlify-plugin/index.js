// Written by `kontent-ssg init --ci netlify`.
//
// Netlify starts every build from a fresh checkout. kontent-ssg builds incrementally only
// when it finds both its build state (.kontent-ssg/) and the output it recorded there, so
// this plugin restores them from Netlify's build cache before the build and saves them
// after a successful one (onPostBuild does not run after a failed build: a failure never
// replaces a good cache). utils.cache is Netlify's documented cache API; restore() leaves
// alone a folder the checkout already has (a committed .kontent-ssg/snapshot, say).

function folders(inputs) {
  const paths = inputs && Array.isArray(inputs.paths) ? inputs.paths : [];
  return paths.filter((path) => typeof path === "string" && path.length > 0);
}

module.exports = {
  async onPreBuild({ inputs, utils }) {
    for (const path of folders(inputs)) {
      const restored = await utils.cache.restore(path);
      console.log(`kontent-ssg cache: ${restored ? "restored" : "nothing cached for"} ${path}`);
    }
  },

  async onPostBuild({ inputs, utils }) {
    for (const path of folders(inputs)) {
      const saved = await utils.cache.save(path);
      console.log(`kontent-ssg cache: ${saved ? "saved" : "nothing to save in"} ${path}`);
    }
  },
};
