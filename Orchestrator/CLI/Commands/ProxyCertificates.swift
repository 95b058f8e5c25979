import Authority
import Model

/// The certificate and key a site's proxy serves HTTPS with: which secrets hold them, and a
/// certificate for the site's host names signed by a CA of Stellwerk's own — the local platform's
/// (which a browser can be told to trust), or a throwaway one that stands in until a municipality
/// sets the certificate of its own CA.
struct ProxyCertificates {
    struct Site {
        var site: String
        var hosts: [String]
        var certificateSecret: String
        var keySecret: String
    }

    /// Each site of `environment` whose proxy takes its certificate and key from secrets.
    static func sites(of environment: ResolvedEnvironment, in workspace: Workspace) -> [Site] {
        environment.sites.compactMap { site in
            for instance in site.nodes.flatMap(\.instances) {
                guard let proxy = workspace.blueprints[instance.blueprint]?.proxy,
                    case .secret(let certificate)? = instance.parameters[proxy.certificate.value],
                    case .secret(let key)? = instance.parameters[proxy.key.value]
                else { continue }
                let hosts = site.routes.map(\.host).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
                return Site(site: site.name, hosts: hosts, certificateSecret: certificate, keySecret: key)
            }
            return nil
        }
    }

    /// A certificate for `hosts` (the chain: it, then `authority`'s) and its key, as PEM.
    /// A site whose proxy serves no address yet gets one for `localhost`: a certificate names at
    /// least one.
    static func issue(for hosts: [String], by authority: CertificateAuthority) throws -> (chain: String, key: String) {
        let (certificate, key) = try authority.issueServerCertificate(
            hosts: hosts.isEmpty ? ["localhost"] : hosts, lifetime: 397 * 24 * 3600)
        return (
            try certificate.serializeAsPEM().pemString + "\n" + authority.certificatePEM + "\n",
            key.pemRepresentation + "\n"
        )
    }
}
