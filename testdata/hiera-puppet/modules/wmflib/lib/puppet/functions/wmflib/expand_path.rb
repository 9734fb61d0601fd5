# A lookup_key function with the behaviour of Wikimedia's `wmflib::expand_path` (see
# testdata/hiera-puppet/SOURCE.md): key `a::b::c` is looked up in `<path>/a/b.yaml`, a key
# without `::` in `<path>.yaml`; only that file is read. Written for this test, not copied.
Puppet::Functions.create_function(:'wmflib::expand_path') do
  dispatch :expand_path do
    param 'String[1]', :key
    param 'Struct[{path=>String[1]}]', :options
    param 'Puppet::LookupContext', :context
  end

  def expand_path(key, options, context)
    return context.cached_value(key) if context.cache_has_key(key)
    parts = key.sub(/\A::/, '').split('::')
    parts.pop
    file = parts.empty? ? "#{options['path']}.yaml" : File.join(options['path'], *parts) + '.yaml'
    data = read_hash(file, context)
    context.not_found unless data.include?(key)
    context.cache(key, context.interpolate(data[key]))
  end

  def read_hash(file, context)
    return {} unless File.exist?(file)
    context.cached_file_data(file) do |content|
      begin
        data = YAML.safe_load(content, filename: file, aliases: true)
      rescue Psych::SyntaxError => e
        raise Puppet::DataBinding::LookupError, "Unable to parse #{e.message}"
      end
      data.is_a?(Hash) ? data : {}
    end
  end
end
