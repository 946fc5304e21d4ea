//! One home for the names of events and commands. Each family of events is declared once, with
//! each event's stored type name beside its variant; from that one list come the name written
//! as the event's JSON `type`, [`type_name`](crate::Event::type_name) and the dispatch that
//! decodes a stored payload by its type name. The commands are declared once too, and their
//! names come from their variants.

/// Declares a family of events (one document kind's, or master data's): the enum, internally
/// tagged by `type`, whose variants are written `"StoredTypeName" => Variant { fields }`, and
/// from the same names:
/// - `TYPE_NAMES`, every stored type name of the family in declaration order;
/// - `type_name()`, the name of an event, which is also its JSON `type`;
/// - `has_type(name)`, whether a stored type name belongs to the family.
macro_rules! event_family {
    (
        $(#[$attribute:meta])*
        pub enum $family:ident {
            $(
                $(#[$variant_attribute:meta])*
                $name:literal => $variant:ident { $($fields:tt)* }
            ),* $(,)?
        }
    ) => {
        $(#[$attribute])*
        #[serde(tag = "type")]
        pub enum $family {
            $(
                $(#[$variant_attribute])*
                #[serde(rename = $name)]
                $variant { $($fields)* },
            )*
        }

        impl $family {
            /// Every stored type name of the family, in declaration order.
            pub const TYPE_NAMES: &'static [&'static str] = &[$($name),*];

            /// The event's type name: stored beside its payload, and its JSON `type`.
            pub fn type_name(&self) -> &'static str {
                match self {
                    $(Self::$variant { .. } => $name,)*
                }
            }

            /// Whether `name` is the stored type name of an event of this family.
            pub fn has_type(name: &str) -> bool {
                matches!(name, $($name)|*)
            }
        }
    };
}

pub(crate) use event_family;

/// Declares the command enum, each variant `Name(Input)`, and from the same list:
/// - `NAMES`, every command's name in declaration order;
/// - `name()`, a command's name (`PlaceSalesOrder`), for logs, counts and messages.
///
/// Its JSON tag is the same name in snake case (`place_sales_order`), as serde's
/// `rename_all = "snake_case"` on the enum writes it.
macro_rules! commands {
    (
        $(#[$attribute:meta])*
        pub enum $enum:ident {
            $($variant:ident($input:ty)),* $(,)?
        }
    ) => {
        $(#[$attribute])*
        pub enum $enum {
            $($variant($input),)*
        }

        impl $enum {
            /// Every command's name, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$(stringify!($variant)),*];

            /// The command's name (`PlaceSalesOrder`), for logs, counts and messages.
            pub fn name(&self) -> &'static str {
                match self {
                    $(Self::$variant(_) => stringify!($variant),)*
                }
            }
        }
    };
}

pub(crate) use commands;

/// Declares the event enum, one variant per family (`Variant(FamilyEvent)`, each family
/// declared with [`event_family!`]), and from the same list `type_names()`, `type_name()` and
/// `decode_payload`, which hands a stored payload to the family its type name belongs to.
macro_rules! events {
    (
        $(#[$attribute:meta])*
        pub enum $enum:ident {
            $(
                $(#[$variant_attribute:meta])*
                $variant:ident($family:ty)
            ),* $(,)?
        }
    ) => {
        $(#[$attribute])*
        pub enum $enum {
            $(
                $(#[$variant_attribute])*
                $variant($family),
            )*
        }

        impl $enum {
            /// Every stored event type name, family by family.
            pub fn type_names() -> impl Iterator<Item = &'static str> {
                [$(<$family>::TYPE_NAMES),*].into_iter().flatten().copied()
            }

            /// The event's type name, stored beside the payload.
            pub fn type_name(&self) -> &'static str {
                match self {
                    $(Self::$variant(event) => event.type_name(),)*
                }
            }

            /// Decodes `payload` as an event of the family `event_type` belongs to.
            fn decode_payload(event_type: &str, payload: &str) -> Result<Self, String> {
                let error = |error: serde_json::Error| format!("{event_type}: {error}");
                $(
                    if <$family>::has_type(event_type) {
                        return serde_json::from_str(payload).map(Self::$variant).map_err(error);
                    }
                )*
                Err(format!("unknown event type `{event_type}`"))
            }
        }
    };
}

pub(crate) use events;
