/// The contract this target was generated from; `yaml` is compiled in by the EmbedOpenAPI plugin.
package enum OpenAPIDocument {}
