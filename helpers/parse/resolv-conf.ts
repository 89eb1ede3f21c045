// Parses /etc/resolv.conf as the resolver reads it: nameservers, the search list, options.
export interface ResolvConf {
  nameservers: string[];
  search: string[];
  options: Record<string, string | true>;
}

export function parseResolvConf(text: string): ResolvConf {
  const conf: ResolvConf = { nameservers: [], search: [], options: {} };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    if (!line) continue;
    const [keyword, ...values] = line.split(/\s+/);
    if (keyword === 'nameserver' && values[0]) conf.nameservers.push(values[0]);
    else if (keyword === 'search' || keyword === 'domain')
      conf.search = values; // the last one wins, as in glibc
    else if (keyword === 'options') {
      for (const option of values) {
        const [name, value] = option.split(':');
        conf.options[name] = value ?? true;
      }
    }
  }
  return conf;
}
