package import Markup

/// The escaping every service's markup uses, where the services already look for it.
package typealias MarkupText = Markup.MarkupText
