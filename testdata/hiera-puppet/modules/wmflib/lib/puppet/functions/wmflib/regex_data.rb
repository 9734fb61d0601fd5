# A lookup_key function with the behaviour of Wikimedia's `wmflib::regex_data` (see
# testdata/hiera-puppet/SOURCE.md): the file maps labels to hashes whose `__regex` (a
# `!ruby/regexp`) is matched against the `node` option; the first matching label that has the
# key gives its value. Any error while matching makes the value undef (nil), as there.
# Written for this test, not copied.
Puppet::Functions.create_function(:'wmflib::regex_data') do
  dispatch :regex_data do
    param 'String[1]', :key
    param 'Hash', :options
    param 'Puppet::LookupContext', :context
  end

  def regex_data(key, options, context)
    return context.cached_value(key) if context.cache_has_key(key)
    data = context.cached_file_data(options['path']) do |content|
      begin
        loaded = YAML.safe_load(content, permitted_classes: [Regexp], filename: options['path'], aliases: true)
      rescue Psych::SyntaxError => e
        raise Puppet::DataBinding::LookupError, "Unable to parse #{e.message}"
      end
      loaded.is_a?(Hash) ? loaded : {}
    end
    first_match(key, options['node'], data, context)
  end

  def first_match(key, node, data, context)
    data.each do |_label, section|
      next unless section['__regex'].match(node)
      next unless section.include?(key)
      return context.cache(key, context.interpolate(section[key]))
    end
    context.not_found
  rescue StandardError
    nil
  end
end
