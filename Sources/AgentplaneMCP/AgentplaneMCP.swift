// The MCP client side of the platform (issue #9): see the files of this module.
