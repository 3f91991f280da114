/**
 * GraphQL SDL generated from the TypeBox schemas of schemas.ts, so that the
 * GraphQL types cannot drift from REST and OpenAPI. Titled objects become object
 * types, titled literal unions become enums, integers become `SafeInt` (JSON
 * numbers up to 2^53 - 1; GraphQL's Int stops at 2^31 - 1).
 */
import { Kind, type TSchema } from '@sinclair/typebox'

const int32Max = 2 ** 31 - 1

interface Generated {
  /** SDL of every named type, in first-use order. */
  definitions: Map<string, string>
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1)
}

function isNull(schema: TSchema): boolean {
  return schema[Kind] === 'Null'
}

function isLiteralUnion(schema: TSchema): boolean {
  return schema[Kind] === 'Union' && (schema.anyOf as TSchema[]).every((s) => s[Kind] === 'Literal' && typeof s.const === 'string')
}

/** The GraphQL type reference of a schema (non-null unless the schema admits null). */
export function graphqlTypeOf(schema: TSchema, fallbackName: string, out: Generated): string {
  if (schema[Kind] === 'Union') {
    const variants = schema.anyOf as TSchema[]
    const nonNull = variants.filter((v) => !isNull(v))
    if (nonNull.length !== variants.length && nonNull.length === 1) {
      return graphqlTypeOf(nonNull[0] as TSchema, fallbackName, out).replace(/!$/, '')
    }
    if (isLiteralUnion(schema)) {
      const name = typeof schema.title === 'string' ? schema.title : null
      if (name === null) return 'String!'
      if (!out.definitions.has(name)) out.definitions.set(name, `enum ${name} { ${variants.map((v) => String(v.const)).join(' ')} }`)
      return `${name}!`
    }
    if (variants.every((v) => v[Kind] === 'Object' && typeof v.title === 'string')) {
      const name = typeof schema.title === 'string' ? schema.title : fallbackName
      const members = variants.map((v) => graphqlTypeOf(v, '', out).replace(/!$/, ''))
      if (!out.definitions.has(name)) out.definitions.set(name, `union ${name} = ${members.join(' | ')}`)
      return `${name}!`
    }
    throw new TypeError(`graphqlTypeOf: unsupported union in ${fallbackName}`)
  }
  switch (schema[Kind]) {
    case 'String':
    case 'Literal':
      return 'String!'
    case 'Boolean':
      return 'Boolean!'
    case 'Number':
      return 'Float!'
    case 'Integer':
      return typeof schema.maximum === 'number' && schema.maximum <= int32Max ? 'Int!' : 'SafeInt!'
    case 'Array':
      return `[${graphqlTypeOf(schema.items as TSchema, fallbackName, out)}]!`
    case 'Object': {
      const name = typeof schema.title === 'string' ? schema.title : fallbackName
      if (!out.definitions.has(name)) {
        out.definitions.set(name, '') // reserve: keeps first-use order and stops recursion
        const properties = schema.properties as Record<string, TSchema>
        const required = new Set((schema.required as string[] | undefined) ?? [])
        const fields = Object.entries(properties).map(([field, fieldSchema]) => {
          const t = graphqlTypeOf(fieldSchema, name + capitalize(field), out)
          const description = typeof fieldSchema.description === 'string' ? `  ${JSON.stringify(fieldSchema.description)}\n` : ''
          return `${description}  ${field}: ${required.has(field) ? t : t.replace(/!$/, '')}`
        })
        out.definitions.set(name, `type ${name} {\n${fields.join('\n')}\n}`)
      }
      return `${name}!`
    }
    default:
      throw new TypeError(`graphqlTypeOf: unsupported schema kind ${String(schema[Kind])} in ${fallbackName}`)
  }
}

/** SDL for the given schemas (and everything they reference). */
export function generateSdl(schemas: readonly TSchema[]): string {
  const out: Generated = { definitions: new Map() }
  for (const s of schemas) graphqlTypeOf(s, String(s.title), out)
  return [...out.definitions.values()].join('\n\n')
}
