-- Neovim as racelint's language-server client (run by .ci/nvim-lsp-test.sh): open a
-- file, wait for racelint's diagnostics, ask for code actions, apply the first, and
-- write what was seen to $OUT. Written for Neovim 0.7 (Debian 12) and later.
local racelint, file, out = os.getenv("RACELINT"), os.getenv("FILE"), os.getenv("OUT")
local seen = {}
local function finish()
  vim.fn.writefile(seen, out)
  vim.cmd("qall!")
end

vim.cmd("edit " .. vim.fn.fnameescape(file))
local bufnr = vim.api.nvim_get_current_buf()
local client_id = vim.lsp.start_client({
  name = "racelint",
  cmd = { racelint, "server" },
  root_dir = vim.fn.fnamemodify(file, ":p:h"),
})
vim.lsp.buf_attach_client(bufnr, client_id)
if not vim.wait(60000, function() return #vim.diagnostic.get(bufnr) > 0 end, 50) then
  table.insert(seen, "no diagnostics")
  return finish()
end
local diagnostics = vim.diagnostic.get(bufnr)
for _, d in ipairs(diagnostics) do
  local lsp = d.user_data and d.user_data.lsp or {}
  table.insert(seen, string.format("diagnostic %s %s at %d:%d", d.source, lsp.code or d.code, d.lnum + 1, d.col + 1))
end
local first = diagnostics[1]
local lsp = first.user_data and first.user_data.lsp
local params = {
  textDocument = { uri = vim.uri_from_bufnr(bufnr) },
  range = { start = { line = first.lnum, character = first.col }, ["end"] = { line = first.end_lnum, character = first.end_col } },
  context = { diagnostics = { lsp } },
}
local responses = vim.lsp.buf_request_sync(bufnr, "textDocument/codeAction", params, 10000) or {}
for _, response in pairs(responses) do
  local action = (response.result or {})[1]
  if action then
    table.insert(seen, "action " .. action.title)
    vim.lsp.util.apply_workspace_edit(action.edit, "utf-16")
  end
end
for number, line in ipairs(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)) do
  table.insert(seen, string.format("%d| %s", number, line))
end
vim.lsp.stop_client(client_id)
vim.wait(10000, function() return vim.lsp.client_is_stopped(client_id) end, 50)
finish()
