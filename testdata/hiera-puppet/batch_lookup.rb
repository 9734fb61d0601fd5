# Looks up every key x fact set x merge of a request with Puppet's own lookup API, in one
# Ruby process (one `puppet lookup` process costs ~1.5 s; this costs that once).
#
#   ruby batch_lookup.rb REQUEST.json WORKDIR
#
# REQUEST.json: {"hiera_config": ABS, "modulepath": ABS, "keys": [..], "merges": [null, "deep"..],
#                "nodes": [{"name": FQDN, "facts": {..}}, ..]}
# Prints one JSON object per line, in request order (node, then merge, then key):
#   {"node":N,"merge":M,"key":K,"status":"found","json":TEXT}  TEXT = what
#       `puppet lookup --render-as json` prints for the value
#   {"node":N,"merge":M,"key":K,"status":"not_found"}
#   {"node":N,"merge":M,"key":K,"status":"error","message":TEXT}
# This is what `puppet lookup --node N --facts F --render-as json [--merge M] KEY` does
# (lib/puppet/application/lookup.rb: generate_scope, then Puppet::Pops::Lookup.lookup), with one
# compile per node instead of one process per lookup.
require 'json'
require 'fileutils'
require 'puppet'

request = JSON.parse(File.read(ARGV.fetch(0)))
work = ARGV.fetch(1)
%w[conf code var log run envs/production].each { |d| FileUtils.mkdir_p(File.join(work, d)) }
Puppet.initialize_settings([
  '--confdir', File.join(work, 'conf'), '--codedir', File.join(work, 'code'),
  '--vardir', File.join(work, 'var'), '--logdir', File.join(work, 'log'),
  '--rundir', File.join(work, 'run'), '--environmentpath', File.join(work, 'envs'),
  '--basemodulepath', request.fetch('modulepath'), '--hiera_config', request.fetch('hiera_config'),
  '--strict', 'warning'
])
Puppet::Util::Log.newdestination(:console)
Puppet::Util::Log.level = :err
Puppet[:code] = 'undef'
renderer = Puppet::Network::FormatHandler.format(:json)
$stdout.sync = false

request.fetch('nodes').each do |n|
  name = n.fetch('name')
  facts = Puppet::Node::Facts.new(name, n.fetch('facts'))
  ni = Puppet::Node.indirection
  ni.terminus_class = :plain
  node = ni.find(name, facts: facts, environment: 'production')
  compiler = Puppet::Parser::Compiler.new(node)
  Puppet::Util.skip_external_facts do
    compiler.compile do |catalog|
      scope = compiler.topscope
      request.fetch('merges').each do |merge|
        merge_options = merge.nil? ? nil : { 'strategy' => merge }
        if merge == 'deep'
          merge_options = { 'strategy' => 'deep', 'sort_merged_arrays' => false, 'merge_hash_arrays' => false }
        end
        request.fetch('keys').each do |key|
          out = { 'node' => name, 'merge' => merge, 'key' => key }
          invocation = Puppet::Pops::Lookup::Invocation.new(scope, {}, {}, nil)
          begin
            result = Puppet::Pops::Lookup.lookup(key, nil, nil, false, merge_options, invocation)
            out['status'] = 'found'
            out['json'] = renderer.render(result)
          rescue Puppet::DataBinding::LookupError => e
            # `puppet lookup` exits 1 for both; "not found" is the message it raises then.
            if e.message.start_with?('Function lookup() did not find a value')
              out['status'] = 'not_found'
            else
              out['status'] = 'error'
              out['message'] = e.message
            end
          rescue StandardError, Puppet::Error => e
            out['status'] = 'error'
            out['message'] = "#{e.class}: #{e.message}"
          end
          # A failed lookup can leave the compile's lookup adapter half filled (lookup_options
          # collected up to the file that failed); one `puppet lookup` process per key would
          # start afresh, so start afresh too.
          Puppet::Pops::Lookup::LookupAdapter.clear(compiler) if out['status'] == 'error'

          puts JSON.generate(out)
        end
      end
      catalog
    end
  end
end
$stdout.flush
